"""Periods and time buckets of dashboards, in calendar dates of the app's time zone.

A period is half-open, ``[start, end)``, so consecutive periods never share a day; either
end may be open (``all``). Presets are read against *today* as the injected clock and the
app's time zone give it, never against the server's local date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MAX_BUCKETS = 400


@dataclass(frozen=True)
class Period:
    start: date | None
    end: date | None  # exclusive
    preset: str | None = None

    @property
    def bounded(self) -> bool:
        return self.start is not None and self.end is not None

    def as_json(self) -> dict[str, object]:
        """``to`` is the last day included, as people write periods."""
        last = self.end - timedelta(days=1) if self.end is not None else None
        return {"preset": self.preset, "from": self.start, "to": last}


@dataclass(frozen=True)
class TimeBucket:
    key: str
    start: date
    end: date  # exclusive


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _add_months(day: date, months: int) -> date:
    return month_start(day, -months)


def preset_period(preset: str, today: date) -> Period:
    """The dates a preset names; KeyError for a name that is none."""
    week = today - timedelta(days=today.weekday())
    month = month_start(today)
    quarter = quarter_start(today)
    year = date(today.year, 1, 1)
    tomorrow = today + timedelta(days=1)
    spans: dict[str, tuple[date | None, date | None]] = {
        "today": (today, tomorrow),
        "yesterday": (today - timedelta(days=1), today),
        "this_week": (week, week + timedelta(days=7)),
        "last_week": (week - timedelta(days=7), week),
        "this_month": (month, _add_months(month, 1)),
        "last_month": (_add_months(month, -1), month),
        "this_quarter": (quarter, _add_months(quarter, 3)),
        "last_quarter": (_add_months(quarter, -3), quarter),
        "this_year": (year, date(today.year + 1, 1, 1)),
        "last_year": (date(today.year - 1, 1, 1), year),
        "last_7_days": (tomorrow - timedelta(days=7), tomorrow),
        "last_30_days": (tomorrow - timedelta(days=30), tomorrow),
        "last_90_days": (tomorrow - timedelta(days=90), tomorrow),
        "last_12_months": (_add_months(month, -11), _add_months(month, 1)),
        "all": (None, None),
    }
    start, end = spans[preset]
    return Period(start, end, preset)


def bucket_start(day: date, bucket: str) -> date:
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return month_start(day)
    if bucket == "quarter":
        return quarter_start(day)
    return date(day.year, 1, 1)


def next_bucket(start: date, bucket: str) -> date:
    if bucket == "day":
        return start + timedelta(days=1)
    if bucket == "week":
        return start + timedelta(days=7)
    if bucket == "month":
        return _add_months(start, 1)
    if bucket == "quarter":
        return _add_months(start, 3)
    return date(start.year + 1, 1, 1)


def bucket_key(start: date, bucket: str) -> str:
    if bucket == "day":
        return start.isoformat()
    if bucket == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if bucket == "month":
        return f"{start.year}-{start.month:02d}"
    if bucket == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def buckets(start: date, end: date, bucket: str) -> list[TimeBucket]:
    """The buckets covering ``[start, end)``; the first and last may stick out of it.
    ValueError when there would be more than MAX_BUCKETS."""
    found: list[TimeBucket] = []
    current = bucket_start(start, bucket)
    while current < end:
        following = next_bucket(current, bucket)
        found.append(TimeBucket(bucket_key(current, bucket), current, following))
        if len(found) > MAX_BUCKETS:
            raise ValueError(f"more than {MAX_BUCKETS} buckets")
        current = following
    return found
