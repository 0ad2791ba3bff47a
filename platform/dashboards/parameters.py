"""What a reader asks of a dashboard: the period (a preset, or ``from``/``to`` dates) and an
optional extra filter, checked before any query runs so a bad parameter is a 400 naming it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, get_args

from loom.engines.query.periods import Period, preset_period
from loom.metamodel.dashboards import PeriodPreset
from loom.metamodel.errors import BadRequest, Problem
from loom.metamodel.i18n import message, register_messages

PRESETS: tuple[str, ...] = get_args(PeriodPreset)
# the widest period a reader may ask for: a series of days over it stays drawable
MAX_PERIOD_DAYS = 366 * 20
EARLIEST, LATEST = date(1000, 1, 1), date(9998, 12, 31)

register_messages({
    "dash_bad_parameters": {"en": "The dashboard parameters have problems",
                            "zh-CN": "看板参数有误"},
    "dash_bad_preset": {"en": "'{value}' is not a period; use one of: {choices}",
                        "zh-CN": "“{value}”不是有效的时间段；可选：{choices}"},
    "dash_bad_date": {"en": "'{value}' is not a date (YYYY-MM-DD)",
                      "zh-CN": "“{value}”不是日期（YYYY-MM-DD）"},
    "dash_dates_reversed": {"en": "'from' ({start}) is after 'to' ({end})",
                            "zh-CN": "开始日期（{start}）晚于结束日期（{end}）"},
    "dash_period_and_dates": {"en": "give a period preset or from/to dates, not both",
                              "zh-CN": "时间段预设与起止日期只能二选一"},
    "dash_period_too_long": {"en": "the period is longer than {days} days",
                             "zh-CN": "时间段超过 {days} 天"},
})


@dataclass(frozen=True)
class DashboardRequest:
    period: Period
    filter: Any = None


def _date(name: str, text: str | None, problems: list[Problem]) -> date | None:
    if text is None or text == "":
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    # beyond these years a local midnight has no UTC instant (and no business has data)
    if day is None or not EARLIEST <= day <= LATEST:
        problems.append(Problem(name, message("dash_bad_date", value=text[:40])))
        return None
    return day


def parse_period(preset: str | None, start_text: str | None, end_text: str | None,
                 today: date, default: str) -> Period:
    """The period asked for: ``to`` is the last day included; either date alone leaves
    the other end open; nothing at all means the dashboard's default preset."""
    problems: list[Problem] = []
    if preset and (start_text or end_text):
        problems.append(Problem("period", message("dash_period_and_dates")))
    if preset and preset not in PRESETS:
        problems.append(Problem("period", message("dash_bad_preset", value=preset,
                                                  choices=", ".join(PRESETS))))
    start = _date("from", start_text, problems)
    last = _date("to", end_text, problems)
    if start and last and start > last:
        problems.append(Problem("from", message("dash_dates_reversed", start=start, end=last)))
    if start and last and (last - start).days > MAX_PERIOD_DAYS:
        problems.append(Problem("to", message("dash_period_too_long", days=MAX_PERIOD_DAYS)))
    if problems:
        raise BadRequest(message("dash_bad_parameters"), problems)
    if start or last:
        return Period(start, last + timedelta(days=1) if last else None, None)
    return preset_period(preset or default, today)
