"""The world an expression is evaluated in: the clock, the time zone, the user, the save.

The clock is injected. Only the defaults read the real time, so rules, tests and
simulations (``loom worker --as-of …``) decide what "now" and "today" are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loom.engines.expressions.compiled import Compiled


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RelatedQuery:
    """What a ``related`` aggregate asks for: ``agg`` over the ``entity`` records whose
    lookup ``via`` points at ``record``, restricted by ``where``."""

    entity: str
    via: str
    agg: str
    field: str | None
    where: Compiled | None
    record: Mapping[str, Any]


@dataclass(frozen=True)
class Env:
    """Evaluation environment.

    ``user`` carries ``id``, ``email``, ``roles``, ``department`` and whatever else the
    platform knows; ``prior`` is the record before this save (None on create) and
    ``changed`` the names of the fields this save changes. ``related`` answers
    related-record aggregates in single-record evaluation (the platform runs the SQL).
    """

    now: datetime = field(default_factory=_now)
    today: date | None = None
    timezone: tzinfo = UTC
    user: Mapping[str, Any] = field(default_factory=dict)
    prior: Mapping[str, Any] | None = None
    changed: frozenset[str] | set[str] | None = None
    related: Callable[[RelatedQuery], Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("Env.now must be an aware datetime")
        if self.today is None:
            object.__setattr__(self, "today", self.now.astimezone(self.timezone).date())

    @classmethod
    def at(cls, now: datetime, timezone: tzinfo = UTC, **values: Any) -> Env:
        """An environment at a given instant, ``today`` read in ``timezone``."""
        return cls(now=now, timezone=timezone, **values)

    def roles(self) -> frozenset[str]:
        roles = self.user.get("roles") or ()
        if isinstance(roles, str):
            return frozenset({roles})
        return frozenset(str(role) for role in roles)
