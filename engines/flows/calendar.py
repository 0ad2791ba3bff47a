"""Business time: working hours per weekday, holidays and make-up working days (调休), in
a time zone. SLA clocks run on it: "respond within 4 working hours" from Friday 17:00 is
Monday 12:00 when the day ends at 18:00 and starts at 09:00."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loom.metamodel.calendars import CalendarSpec

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3700  # about ten years of days: a target beyond that is refused, never looped


class CalendarError(ValueError):
    """A business-time question with no answer (no working time at all, a target too far)."""


def _interval(text: str) -> tuple[time, time]:
    start, _, end = text.partition("-")
    first, last = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    if last <= first and last != time(0, 0):
        raise ValueError(f"'{text}' ends before it starts")
    return first, last


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo
    hours: dict[int, tuple[tuple[time, time], ...]]  # weekday (0 = Monday) -> intervals
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # make-up days: worked with Monday's hours
    always: bool = field(default=False)

    @classmethod
    def from_spec(cls, spec: CalendarSpec | None, timezone: str) -> BusinessCalendar:
        """A calendar from metadata; None is round the clock (24×7)."""
        if spec is None:
            return cls(ZoneInfo(timezone), {}, always=True)
        hours = {index: tuple(_interval(text) for text in spec.hours.get(name, []))
                 for index, name in enumerate(WEEKDAYS)}
        return cls(ZoneInfo(spec.timezone or timezone), hours, frozenset(spec.holidays),
                   frozenset(spec.workdays))

    def _day(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of one local day, as aware datetimes."""
        if day in self.holidays and day not in self.workdays:
            return []
        intervals = self.hours.get(0 if day in self.workdays else day.weekday(), ())
        out = []
        for first, last in intervals:
            start = datetime.combine(day, first, tzinfo=self.zone)
            end = datetime.combine(day + timedelta(days=1) if last == time(0, 0) else day,
                                   last, tzinfo=self.zone)
            out.append((start, end))
        return out

    def _intervals(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(MAX_DAYS):
            yield from self._day(day + timedelta(days=offset))

    def add(self, moment: datetime, seconds: float) -> datetime:
        """The moment ``seconds`` of working time after ``moment``."""
        if self.always:
            return moment + timedelta(seconds=seconds)
        left = timedelta(seconds=seconds)
        for start, end in self._intervals(moment):
            if end <= moment:
                continue
            begin = max(start, moment)
            if begin + left <= end:
                return (begin + left).astimezone(moment.tzinfo)
            left -= end - begin
        raise CalendarError("the calendar has no working time for this far ahead")

    def between(self, first: datetime, last: datetime) -> float:
        """Seconds of working time from ``first`` to ``last`` (0 if ``last`` is earlier)."""
        if last <= first:
            return 0.0
        if self.always:
            return (last - first).total_seconds()
        total = timedelta()
        for start, end in self._intervals(first):
            if start >= last:
                break
            overlap = min(end, last) - max(start, first)
            if overlap > timedelta():
                total += overlap
        return total.total_seconds()
