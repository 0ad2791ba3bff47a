"""When a timed rule is due, and how its firings are named.

A ``date_offset`` rule's moment for a record is its date or datetime field plus the
trigger's offset — for a date field, that day at ``at`` in the app's zone — and the worker
fires the records whose moment fell in ``(as_of − catch_up, as_of]``. The window becomes
bounds on the field's column so the database picks the candidates; the exact check stays in
Python, because calendar months (Jan 31 + P1M = Feb 28) make ``value + offset`` not exactly
invertible, so the bounds are a little wider than the window.

A firing is named by a *slot*: the schedule's tick, or the field value, as ISO text (UTC,
whole seconds, for datetimes). The same text is produced in SQL, so "not fired yet" is a
``NOT EXISTS`` on the firings table instead of a look at every record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, func
from sqlalchemy.sql import ColumnElement

from loom.engines.timing import Duration, parse_duration
from loom.metamodel.rules import Trigger

# Month arithmetic moves a month end by at most three days; a day more covers zone shifts.
MONTH_SLACK = timedelta(days=4)
DATETIME_SLOT = "%Y-%m-%dT%H:%M:%SZ"


def moment_slot(moment: datetime) -> str:
    """A schedule tick (or any instant) as slot text: ``2026-11-02T01:00:00Z``."""
    return moment.astimezone(UTC).strftime(DATETIME_SLOT)


def value_slot(value: date | datetime) -> str:
    """A date field's value (``2026-11-05``) or a datetime field's (UTC) as slot text."""
    if isinstance(value, datetime):
        return moment_slot(value)
    return value.isoformat()


def value_slot_sql(column: ColumnElement[Any], *, is_date: bool,
                   dialect: str) -> ColumnElement[str]:
    """``value_slot`` of a column's value, computed by the database."""
    if dialect == "postgresql":
        if is_date:
            return func.to_char(column, "YYYY-MM-DD", type_=Text)
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS"Z"',
                            type_=Text)
    return func.strftime("%Y-%m-%d" if is_date else DATETIME_SLOT, column, type_=Text)


@dataclass(frozen=True)
class DateWindow:
    """The moments of one ``date_offset`` trigger on a date or datetime field."""

    offset: Duration
    catch_up: Duration
    at: time
    zone: ZoneInfo
    is_date: bool

    @classmethod
    def of(cls, trigger: Trigger, zone: ZoneInfo, *, is_date: bool) -> DateWindow:
        hours, minutes = (int(part) for part in trigger.at.split(":"))
        return cls(parse_duration(trigger.offset), parse_duration(trigger.catch_up),
                   time(hours, minutes), zone, is_date)

    def moment(self, value: date | datetime) -> datetime:
        """When the rule is due for a record holding ``value``."""
        if isinstance(value, datetime):
            return self.offset.after(value)
        # wall-clock arithmetic in the zone: "3 days later at 09:00" stays at 09:00
        return self.offset.after(datetime.combine(value, self.at, tzinfo=self.zone))

    def earliest(self, as_of: datetime) -> datetime:
        """Moments at or before this are too old to fire (missed for longer than catch_up)."""
        return self.catch_up.before(as_of)

    def due(self, value: date | datetime | None, as_of: datetime) -> bool:
        if value is None:
            return False
        return self.earliest(as_of) < self.moment(value) <= as_of

    def bounds(self, as_of: datetime) -> tuple[date | datetime, date | datetime]:
        """Inclusive bounds on the field value that hold every due record (and a few
        more, which ``due`` drops)."""
        low, high = self.offset.before(self.earliest(as_of)), self.offset.before(as_of)
        slack = MONTH_SLACK if self.offset.months else timedelta(0)
        if not self.is_date:
            return low - slack, high + slack
        # a date is due some time on its day: one day either side covers ``at`` and zones
        day = timedelta(days=1)
        return (low.astimezone(self.zone).date() - day - slack,
                high.astimezone(self.zone).date() + day + slack)
