"""Business time: working hours, lunch breaks, weekends, holidays and make-up days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from loom.engines.flows.calendar import BusinessCalendar
from loom.metamodel.calendars import CalendarSpec

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORK = ["09:00-12:00", "13:00-18:00"]
SPEC = CalendarSpec(hours={day: WORK for day in ("mon", "tue", "wed", "thu", "fri")},
                    holidays=[date(2026, 10, 1), date(2026, 10, 2)],
                    workdays=[date(2026, 10, 10)])  # a Saturday worked instead
CAL = BusinessCalendar.from_spec(SPEC, "Asia/Shanghai")
HOUR = 3600


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


def test_adding_working_time() -> None:
    friday_late = at(2026, 11, 6, 17, 0)
    assert CAL.add(friday_late, 4 * HOUR) == at(2026, 11, 9, 12, 0)  # over the weekend
    assert CAL.add(at(2026, 11, 9, 11, 30), HOUR) == at(2026, 11, 9, 13, 30)  # lunch
    assert CAL.add(at(2026, 11, 9, 7, 0), HOUR) == at(2026, 11, 9, 10, 0)  # before work
    # the National Day holidays are skipped; the make-up Saturday is worked
    assert CAL.add(at(2026, 9, 30, 17, 0), 2 * HOUR) == at(2026, 10, 5, 10, 0)
    assert CAL.add(at(2026, 10, 9, 17, 0), 2 * HOUR) == at(2026, 10, 10, 10, 0)
    # a moment in UTC comes back in UTC
    assert CAL.add(at(2026, 11, 9, 9, 0).astimezone(UTC), HOUR).tzinfo == UTC


def test_working_time_between() -> None:
    assert CAL.between(at(2026, 11, 6, 17, 0), at(2026, 11, 9, 12, 0)) == 4 * HOUR
    assert CAL.between(at(2026, 11, 7, 0, 0), at(2026, 11, 8, 23, 0)) == 0
    assert CAL.between(at(2026, 11, 9, 12, 0), at(2026, 11, 9, 9, 0)) == 0
    always = BusinessCalendar.from_spec(None, "Asia/Shanghai")
    assert always.add(at(2026, 11, 7, 23, 0), 2 * HOUR) == at(2026, 11, 8, 1, 0)


@settings(max_examples=60, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
       seconds=st.integers(min_value=0, max_value=200 * HOUR))
def test_between_undoes_add(start: datetime, seconds: int) -> None:
    moment = start.replace(tzinfo=SHANGHAI)
    later = CAL.add(moment, seconds)
    assert later >= moment
    assert abs(CAL.between(moment, later) - seconds) < 1e-6
    if seconds:  # the end of working time is inside working hours
        assert CAL.between(moment, later - timedelta(seconds=1)) < seconds
