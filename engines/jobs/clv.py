"""The per-customer summary the lifetime-value models are fitted to, in set-based SQL
(SQLAlchemy Core; the same statements on SQLite ≥ 3.25 and PostgreSQL), and the SELECT
that turns the fitted models into each customer's values.

As of a date ``A`` (and within the last ``window_days`` days up to ``A`` when set), per
subject with at least one event, counting purchases per distinct day as the published
models do:

- ``x`` — repeat purchases: distinct purchase days − 1;
- ``t_x_days`` — days from the first purchase day to the last;
- ``t_days`` — days from the first purchase day to ``A``;
- ``repeat_minor`` — the spend of the repeat days (all but the first), in minor units
  (cents), so equal spend is equal exactly; the mean spend is ``repeat_minor / x``.

The models need only the distinct (x, t_x, T) and (x, S) with their counts
(``bgnbd_groups``, ``spend_groups``): that is all that leaves the database. Their
predictions come back as one row per distinct (x, t_x, T), joined to the summary in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Integer,
    Numeric,
    Select,
    Table,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.sql import ColumnElement

from loom.engines.jobs.clv_models import GammaGamma
from loom.engines.jobs.rfm import days_between, events_in_window
from loom.metamodel.jobs import ClvJob


def days_from(earlier: ColumnElement[Any], later: ColumnElement[Any],
              dialect: str) -> ColumnElement[int]:
    """Whole days between two date columns (see ``rfm.days_between``)."""
    if dialect == "postgresql":
        return cast(later - earlier, Integer)
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def rounded(value: ColumnElement[Any], places: int) -> ColumnElement[Any]:
    """Rounded to the written field's places (PostgreSQL rounds numerics, not floats)."""
    return func.round(cast(value, Numeric()), places)


@dataclass(frozen=True)
class ClvQuery:
    job: ClvJob
    events: Table
    as_of: date
    dialect: str
    amount_scale: int  # decimal places of the event amount (its minor unit)

    def summary(self) -> Select[Any]:
        """One row per subject with events: ``subject_id, x, t_x_days, t_days,
        repeat_minor``."""
        spec, table = self.job.events, self.events
        amount = func.coalesce(table.c[spec.amount], 0)
        minor = cast(func.round(amount * (10 ** self.amount_scale)), BigInteger)
        per_day = (select(table.c[spec.link].label("subject_id"),
                          table.c[spec.date].label("day"),
                          func.sum(minor).label("spend_minor"))
                   .where(*events_in_window(table, spec, self.as_of, self.job.window_days))
                   .group_by(table.c[spec.link], table.c[spec.date])
                   .subquery("clv_days"))
        days = select(per_day, func.min(per_day.c.day).over(partition_by=per_day.c.subject_id)
                      .label("first_day")).subquery("clv_days_first")
        first = func.min(days.c.day)
        repeat_spend = case((days.c.day > days.c.first_day, days.c.spend_minor), else_=0)
        return (select(days.c.subject_id,
                       (func.count() - 1).label("x"),
                       days_from(first, func.max(days.c.day), self.dialect).label("t_x_days"),
                       days_between(self.as_of, first, self.dialect).label("t_days"),
                       func.coalesce(func.sum(repeat_spend), 0).label("repeat_minor"))
                .group_by(days.c.subject_id))


def bgnbd_groups(summary: Table) -> Select[Any]:
    """The distinct histories and how many subjects share each."""
    return (select(summary.c.x, summary.c.t_x_days, summary.c.t_days, func.count())
            .group_by(summary.c.x, summary.c.t_x_days, summary.c.t_days))


def spend_groups(summary: Table) -> Select[Any]:
    """The distinct (x, repeat spend) of the repeat buyers who spent something."""
    return (select(summary.c.x, summary.c.repeat_minor, func.count())
            .where(summary.c.x > 0, summary.c.repeat_minor > 0)
            .group_by(summary.c.x, summary.c.repeat_minor))


def predicted(summary: Table, predictions: Table, spend: GammaGamma, *, amount_scale: int,
              places: dict[str, int], as_of: date) -> Select[Any]:
    """``id`` and one column per role for every summarised subject: the BG/NBD values of
    its history, and the Gamma-Gamma expected spend (linear in the subject's own spend, so
    computed here) and lifetime value."""
    total = cast(summary.c.repeat_minor, Float) / float(10 ** amount_scale)
    p, q, gamma = (literal(value, Float()) for value in (spend.p, spend.q, spend.gamma))
    expected_spend = (gamma * p + p * total) / (p * cast(summary.c.x, Float) + q - 1)
    values: dict[str, ColumnElement[Any]] = {
        "p_alive": rounded(predictions.c.p_alive, places["p_alive"]),
        "expected_purchases": rounded(predictions.c.expected_purchases,
                                      places["expected_purchases"]),
        "expected_spend": rounded(expected_spend, places["expected_spend"]),
        "clv": rounded(expected_spend * predictions.c.discounted_purchases, places["clv"]),
        "as_of": literal(as_of, Date()),
    }
    joined = summary.join(predictions, (predictions.c.x == summary.c.x)
                          & (predictions.c.t_x_days == summary.c.t_x_days)
                          & (predictions.c.t_days == summary.c.t_days))
    return select(summary.c.subject_id.label("id"),
                  *(value.label(role) for role, value in values.items())).select_from(joined)


# What each role of ``predicted()`` holds, as a column type for the staging table.
ROLE_TYPES: dict[str, Any] = {"p_alive": Numeric(), "expected_purchases": Numeric(),
                              "expected_spend": Numeric(), "clv": Numeric(), "as_of": Date()}
