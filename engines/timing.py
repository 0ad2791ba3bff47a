"""Durations (ISO 8601: ``P3D``, ``PT24H``, ``-P1M``) and cron schedules, as rules and flows
use them. Months and years are calendar steps that keep month ends (Jan 31 + P1M = Feb 28);
days, hours, minutes and seconds are exact."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from croniter import croniter

from loom.engines.expressions.operators.dates import add_months

_DURATION = re.compile(r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                       r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
T = TypeVar("T", date, datetime)


@dataclass(frozen=True)
class Duration:
    months: int
    delta: timedelta

    def after(self, moment: T) -> T:
        """``moment`` moved by this duration (backwards when it is negative)."""
        moved = add_months(moment, self.months) if self.months else moment
        if isinstance(moved, datetime):
            return moved + self.delta
        return moved + timedelta(days=self.delta.days)

    def before(self, moment: T) -> T:
        return Duration(-self.months, -self.delta).after(moment)

    @property
    def negative(self) -> bool:
        return self.months < 0 or (self.months == 0 and self.delta < timedelta(0))


def parse_duration(text: str) -> Duration:
    """Read an ISO 8601 duration; ValueError names what is wrong."""
    found = _DURATION.match(text or "")
    if not found or text.rstrip("-").endswith(("P", "T")):
        raise ValueError(f"'{text}' is not an ISO 8601 duration such as P3D or PT24H")
    sign = -1 if found.group(1) else 1
    years, months, weeks, days, hours, minutes, seconds = (int(g or 0)
                                                           for g in found.groups()[1:])
    delta = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    return Duration(sign * (years * 12 + months), sign * delta)


def check_cron(text: str) -> str | None:
    """Why ``text`` is not a cron schedule (five fields), or None."""
    if not isinstance(text, str) or len(text.split()) != 5 or not croniter.is_valid(text):
        return f"'{text}' is not a cron schedule of five fields, such as '0 2 * * *'"
    return None


def last_tick(cron: str, as_of: datetime) -> datetime:
    """The latest moment at or before ``as_of`` the schedule names (``as_of`` is aware;
    the schedule is read in its time zone)."""
    following = croniter(cron, as_of).get_next(datetime)
    return croniter(cron, following).get_prev(datetime)
