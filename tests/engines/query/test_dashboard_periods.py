"""Periods and time buckets of dashboards: half-open calendar spans read against a given
today, never the machine's."""

from __future__ import annotations

from datetime import date

import pytest

from loom.engines.query.periods import MAX_BUCKETS, buckets, preset_period

TODAY = date(2026, 2, 18)  # a Wednesday


@pytest.mark.parametrize(("preset", "start", "end"), [
    ("today", date(2026, 2, 18), date(2026, 2, 19)),
    ("yesterday", date(2026, 2, 17), date(2026, 2, 18)),
    ("this_week", date(2026, 2, 16), date(2026, 2, 23)),
    ("last_week", date(2026, 2, 9), date(2026, 2, 16)),
    ("this_month", date(2026, 2, 1), date(2026, 3, 1)),
    ("last_month", date(2026, 1, 1), date(2026, 2, 1)),
    ("this_quarter", date(2026, 1, 1), date(2026, 4, 1)),
    ("last_quarter", date(2025, 10, 1), date(2026, 1, 1)),
    ("this_year", date(2026, 1, 1), date(2027, 1, 1)),
    ("last_year", date(2025, 1, 1), date(2026, 1, 1)),
    ("last_7_days", date(2026, 2, 12), date(2026, 2, 19)),
    ("last_30_days", date(2026, 1, 20), date(2026, 2, 19)),
    ("last_90_days", date(2025, 11, 21), date(2026, 2, 19)),
    ("last_12_months", date(2025, 3, 1), date(2026, 3, 1)),
    ("all", None, None),
])
def test_presets(preset: str, start: date | None, end: date | None) -> None:
    period = preset_period(preset, TODAY)
    assert (period.start, period.end) == (start, end)


def test_the_last_day_shown_is_the_one_before_the_open_end() -> None:
    assert preset_period("this_month", TODAY).as_json() == {
        "preset": "this_month", "from": date(2026, 2, 1), "to": date(2026, 2, 28)}


def test_buckets_cover_the_period_and_name_themselves() -> None:
    months = buckets(date(2025, 11, 15), date(2026, 2, 1), "month")
    assert [b.key for b in months] == ["2025-11", "2025-12", "2026-01"]
    assert months[0].start == date(2025, 11, 1) and months[-1].end == date(2026, 2, 1)
    assert [b.key for b in buckets(date(2026, 1, 1), date(2027, 1, 1), "quarter")] == \
        ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    weeks = buckets(date(2026, 1, 1), date(2026, 1, 12), "week")
    assert [(b.key, b.start) for b in weeks] == [("2026-W01", date(2025, 12, 29)),
                                                 ("2026-W02", date(2026, 1, 5))]
    assert [b.key for b in buckets(date(2024, 5, 1), date(2026, 1, 1), "year")] == \
        ["2024", "2025"]
    assert len(buckets(date(2024, 2, 1), date(2024, 3, 1), "day")) == 29


def test_too_many_buckets_are_refused() -> None:
    with pytest.raises(ValueError, match=str(MAX_BUCKETS)):
        buckets(date(2000, 1, 1), date(2026, 1, 1), "day")
