"""RFM scoring as one set-based SQL query (SQLAlchemy Core; window functions, so SQLite
≥ 3.25 and PostgreSQL run the same statement).

As of a date ``A`` (and within the last ``window_days`` days up to ``A`` when set), per
subject with at least one event: R = days from its last event to ``A``, F = number of
events, M = sum of their amounts.

Scores 1–5 by quintiles, ties together: a subject's score is ``1 + ⌊5·b / n⌋`` where ``n``
is the number of subjects scored and ``b`` the number of them strictly worse on that
dimension (more days since the last event for R; fewer events, less money for F and M).
``b`` is ``RANK() - 1`` over the dimension, worst first. Equal values always share a
score, the worst value always gets 1, and a large tie takes the score of its lowest
member (when most customers ordered once, they all get F = 1 and the next scores used
are higher ones).

Tiers: High R is ``R ≤ mean(R)``, High F ``F ≥ mean(F)``, High M ``M ≥ mean(M)``. The
comparisons are made exactly, as ``R·n ≤ ΣR`` on integers, and money in minor units
(cents) so no float ever decides a tier.

Subjects without events as of ``A`` are not scored: every output field is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Numeric,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
)
from sqlalchemy.sql import ColumnElement, Select, Subquery

from loom.metamodel.jobs import JobEvents, RfmJob

SCORE_BUCKETS = 5


def days_between(later: date, earlier: ColumnElement[Any], dialect: str) -> ColumnElement[int]:
    """Whole days from the date column ``earlier`` to ``later``. PostgreSQL subtracts
    dates to an integer; SQLite keeps dates as ISO text, read through julianday()."""
    if dialect == "postgresql":
        return cast(literal(later, Date()) - earlier, Integer)
    return cast(func.julianday(literal(later.isoformat())) - func.julianday(earlier), Integer)


def events_in_window(events: Table, spec: JobEvents, as_of: date,
                     window_days: int | None) -> list[ColumnElement[bool]]:
    """The events that count as of ``as_of``: linked, dated on or before it, and within the
    last ``window_days`` days (``as_of`` included) when set."""
    when = events.c[spec.date]
    found = [events.c[spec.link].is_not(None), when.is_not(None), when <= as_of]
    if window_days:
        found.append(when > as_of - timedelta(days=window_days))
    return found


@dataclass(frozen=True)
class RfmQuery:
    """The statements of one RFM run: tables of the app version, the job, the date."""

    job: RfmJob
    subject: Table
    events: Table
    as_of: date
    dialect: str
    amount_scale: int  # decimal places of the event amount (its minor unit)
    monetary_scale: int  # decimal places of the field the raw M is written to

    def _events_in_window(self) -> list[ColumnElement[bool]]:
        return events_in_window(self.events, self.job.events, self.as_of, self.job.window_days)

    def aggregates(self) -> Subquery:
        """Per subject with events: last event date, count, sum (and sum in minor units)."""
        spec = self.job.events
        table = self.events
        amount = table.c[spec.amount]
        if self.dialect == "postgresql":
            # numeric(p, s) sums exactly: scale the total once, not every event
            minor_total = cast(func.round(func.coalesce(func.sum(amount), 0)
                                          * (10 ** self.amount_scale)), BigInteger)
        else:  # SQLite may sum in floating point: whole cents per event, then the sum
            minor_total = func.coalesce(func.sum(
                cast(func.round(amount * (10 ** self.amount_scale)), BigInteger)), 0)
        last = func.max(table.c[spec.date])
        return (select(table.c[spec.link].label("subject_id"),
                       last.label("last_event"),
                       func.count().label("frequency"),
                       func.round(func.coalesce(func.sum(amount), 0), self.monetary_scale)
                       .label("monetary"),
                       minor_total.label("monetary_minor"),
                       days_between(self.as_of, last, self.dialect).label("recency_days"))
                .where(*self._events_in_window())
                .group_by(table.c[spec.link])
                .subquery("rfm_totals"))

    def ranked(self) -> Subquery:
        """The aggregates with ranks (worst first), the population and its sums."""
        totals = self.aggregates()
        return select(
            totals,
            func.rank().over(order_by=totals.c.recency_days.desc()).label("r_rank"),
            func.rank().over(order_by=totals.c.frequency).label("f_rank"),
            func.rank().over(order_by=totals.c.monetary_minor).label("m_rank"),
            func.count().over().label("population"),
            func.sum(totals.c.recency_days).over().label("r_total"),
            func.sum(totals.c.frequency).over().label("f_total"),
            func.sum(totals.c.monetary_minor).over().label("m_total"),
        ).subquery("rfm_ranked")

    @staticmethod
    def _score(rank: ColumnElement[int], population: ColumnElement[int]) -> ColumnElement[int]:
        # integer division on both databases: 1 + floor(5 * (rank - 1) / n)
        return cast(1 + (SCORE_BUCKETS * (rank - 1)) // population, Integer)

    def _tier(self, ranked: Subquery) -> ColumnElement[Any]:
        tiers = self.job.tiers
        assert tiers is not None
        n = ranked.c.population
        high = {"r": ranked.c.recency_days * n <= ranked.c.r_total,
                "f": ranked.c.frequency * n >= ranked.c.f_total,
                "m": ranked.c.monetary_minor * n >= ranked.c.m_total}
        whens = []
        for key, value in tiers.names.items():
            parts = [high[part[-1]] if part.startswith("high_") else ~high[part[-1]]
                     for part in key.split(",")]
            whens.append((and_(*parts), literal(value)))
        return case(*whens, else_=null())

    def values(self, ranked: Subquery) -> dict[str, ColumnElement[Any]]:
        """{role: SQL value} over ``ranked``."""
        n = ranked.c.population
        found: dict[str, ColumnElement[Any]] = {
            "recency_score": self._score(ranked.c.r_rank, n),
            "frequency_score": self._score(ranked.c.f_rank, n),
            "monetary_score": self._score(ranked.c.m_rank, n),
            "recency_days": ranked.c.recency_days,
            "frequency": ranked.c.frequency,
            "monetary": ranked.c.monetary,
            "monetary_minor": ranked.c.monetary_minor,
            "last_event": ranked.c.last_event,
            "as_of": literal(self.as_of, Date()),
        }
        if self.job.tiers is not None:
            found["tier"] = self._tier(ranked)
        return found

    def scored(self) -> Select[Any]:
        """The subjects with events (``id``) and every value the job computes for them,
        one column per role of ``ROLE_TYPES``. Subjects without events are not in it:
        their values are cleared."""
        ranked = self.ranked()
        values = self.values(ranked)
        return select(ranked.c.subject_id.label("id"),
                      *(values[role].label(role) for role in values))


# What each role of ``scored()`` holds, as a column type for the staging table.
ROLE_TYPES: dict[str, Any] = {
    "recency_score": Integer(), "frequency_score": Integer(), "monetary_score": Integer(),
    "recency_days": BigInteger(), "frequency": BigInteger(), "monetary": Numeric(),
    "monetary_minor": Numeric(), "last_event": Date(), "as_of": Date(), "tier": Text(),
}


def minor_to_amount(value: Any, scale: int) -> Decimal:
    """A sum in minor units (cents) back in the amount's unit, exactly."""
    return Decimal(int(value)).scaleb(-scale)
