"""The one clock. Everything that needs "now" gets a Clock, so tests and simulations
(``loom worker --once --as-of …``) control time."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    """Real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that says what it is told (tests, simulations)."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment
