"""Dates: ``today``, ``now``, ``days_since``, ``days_until``, ``date_add``, ``add_months``,
``date``, ``datedif``, ``year``, ``month``, ``day``.

"Today" is the environment's date in its time zone; a datetime's date is read in that
zone too. Months keep month ends: Jan 31 + 1 month is Feb 28/29, and the last day of a
month stays the last day (Feb 28 2025 + 1 month is Mar 31). DATEDIF counts as Excel does.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from loom.engines.expressions.errors import NotTranslatable
from loom.engines.expressions.python import Emitter
from loom.engines.expressions.scope import ValueType
from loom.engines.expressions.sql import (
    AddDays,
    AddMonths,
    DaysBetween,
    LocalDate,
    SqlBuilder,
    SqlValue,
)
from loom.engines.expressions.tree import Expr, Fn, Operator, register
from loom.engines.expressions.values import day_start, js_text, to_date, to_number, to_temporal

UNITS = ("days", "weeks", "months", "years", "hours", "minutes", "seconds")
DATEDIF_UNITS = ("d", "m", "y", "ym", "md", "yd")


def emit_today(_expr: Expr, _fns: list[Fn], _em: Emitter) -> Fn:
    return lambda _data, run: run.environment().today


def emit_now(_expr: Expr, _fns: list[Fn], _em: Emitter) -> Fn:
    return lambda _data, run: run.environment().now


def _days(expr: Expr, fns: list[Fn], em: Emitter, since: bool) -> Fn:
    (fn,) = fns

    def days(data: Any, run: Any) -> int | None:
        value = fn(data, run)
        if value is None or value == "":
            return None
        day = to_date(value, run.zone)
        if day is None:
            em.fault(expr, "expr_not_a_date", value=js_text(value)[:40])
            return None
        today = run.environment().today
        return (today - day).days if since else (day - today).days

    return days


def emit_days_since(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    return _days(expr, fns, em, since=True)


def emit_days_until(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    return _days(expr, fns, em, since=False)


def add_months(value: date | datetime, months: int) -> date | datetime:
    """Months added; the last day of a month stays the last day, other days clamp."""
    total = value.year * 12 + value.month - 1 + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise OverflowError
    last = calendar.monthrange(year, month + 1)[1]
    at_end = value.day == calendar.monthrange(value.year, value.month)[1]
    return value.replace(year=year, month=month + 1, day=last if at_end else min(value.day, last))


def shift(value: date | datetime, amount: int | Decimal, unit: str, zone: Any) -> Any:
    if unit in ("months", "years"):
        months = int(amount) * (12 if unit == "years" else 1)
        if isinstance(value, datetime):
            local = value.astimezone(zone)
            return add_months(local, months).astimezone(value.tzinfo)
        return add_months(value, months)
    if unit in ("hours", "minutes", "seconds"):
        moment = value if isinstance(value, datetime) else day_start(value, zone)
        return moment + timedelta(**{unit: float(amount)})
    days = amount * 7 if unit == "weeks" else amount
    if isinstance(value, datetime):
        return value + timedelta(days=float(days))
    return value + timedelta(days=int(days))


def emit_date_add(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    value_of, amount_of = fns[0], fns[1]
    unit_of = fns[2] if len(fns) > 2 else None

    def date_add(data: Any, run: Any) -> Any:
        value, amount = value_of(data, run), amount_of(data, run)
        unit = unit_of(data, run) if unit_of else "days"
        unit = js_text(unit).lower()
        if unit not in UNITS and unit + "s" in UNITS:
            unit += "s"
        if unit not in UNITS:
            raise em.error(expr, "expr_bad_unit", unit=unit, units=", ".join(UNITS))
        if value is None or amount is None:
            return None
        moment, number = to_temporal(value, run.zone), to_number(amount)
        if moment is None or number is None:
            em.fault(expr, "expr_not_a_date" if moment is None else "expr_not_a_number",
                     value=js_text(value if moment is None else amount)[:40])
            return None
        try:
            return shift(moment, number, unit, run.zone)
        except (OverflowError, ValueError):
            raise em.error(expr, "expr_value_too_large", what="date") from None

    return date_add


def emit_add_months(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    inner = emit_date_add(expr, [*fns, lambda _d, _r: "months"], em)
    return inner


def emit_date(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    def make(data: Any, run: Any) -> date | None:
        values = [fn(data, run) for fn in fns]
        if len(values) == 1:
            if values[0] is None or values[0] == "":
                return None
            day = to_date(values[0], run.zone)
            if day is None:
                em.fault(expr, "expr_not_a_date", value=js_text(values[0])[:40])
            return day
        if any(value is None for value in values):
            return None
        numbers = [to_number(value) for value in values]
        try:
            year, month, day_number = (int(n) for n in numbers)  # type: ignore[arg-type]
            return date(year, month, day_number)
        except (TypeError, ValueError, OverflowError):
            em.fault(expr, "expr_not_a_date", value="-".join(js_text(v) for v in values))
            return None

    return make


def datedif(start: date, end: date, unit: str) -> int:
    """Excel's DATEDIF."""
    if unit == "d":
        return (end - start).days
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    if unit == "m":
        return months
    if unit == "y":
        return months // 12
    if unit == "ym":
        return months % 12
    if unit == "md":
        if end.day >= start.day:
            return end.day - start.day
        previous = end.replace(day=1) - timedelta(days=1)
        return max(previous.day - start.day, 0) + end.day
    # "yd": days between, years ignored
    shifted = _same_day_in(start, end.year)
    if shifted > end:
        shifted = _same_day_in(start, end.year - 1)
    return (end - shifted).days


def _same_day_in(day: date, year: int) -> date:
    last = calendar.monthrange(year, day.month)[1]
    return date(year, day.month, min(day.day, last))


def emit_datedif(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
    start_of, end_of, unit_of = fns

    def difference(data: Any, run: Any) -> int | None:
        unit = js_text(unit_of(data, run)).lower()
        if unit not in DATEDIF_UNITS:
            raise em.error(expr, "expr_bad_unit", unit=unit, units=", ".join(DATEDIF_UNITS))
        start, end = start_of(data, run), end_of(data, run)
        if start is None or end is None or start == "" or end == "":
            return None
        first, last = to_date(start, run.zone), to_date(end, run.zone)
        if first is None or last is None:
            em.fault(expr, "expr_not_a_date",
                     value=js_text(start if first is None else end)[:40])
            return None
        if first > last:
            em.fault(expr, "expr_start_after_end")
            return None
        return datedif(first, last, unit)

    return difference


def _part(name: str) -> Any:
    def emit(expr: Expr, fns: list[Fn], em: Emitter) -> Fn:
        (fn,) = fns

        def part(data: Any, run: Any) -> int | None:
            value = fn(data, run)
            if value is None or value == "":
                return None
            day = to_date(value, run.zone)
            if day is None:
                em.fault(expr, "expr_not_a_date", value=js_text(value)[:40])
                return None
            return int(getattr(day, name))

        return part

    return emit


# --- SQL -------------------------------------------------------------------------------------

def _sql_date(sql: SqlBuilder, value: SqlValue) -> Any:
    if value.type is ValueType.DATE:
        return value.sql
    if value.type is ValueType.DATETIME:
        return LocalDate(value.sql, sql.zone)
    raise NotTranslatable("this needs a date field")


def sql_days_since(sql: SqlBuilder, expr: Expr) -> SqlValue:
    day = _sql_date(sql, sql.value(expr.args[0]))
    return SqlValue(DaysBetween(day, sql.bind(sql.env.today).sql), ValueType.INTEGER, 0)


def sql_days_until(sql: SqlBuilder, expr: Expr) -> SqlValue:
    day = _sql_date(sql, sql.value(expr.args[0]))
    return SqlValue(DaysBetween(sql.bind(sql.env.today).sql, day), ValueType.INTEGER, 0)


def sql_date_add(sql: SqlBuilder, expr: Expr) -> SqlValue:
    value = sql.value(expr.args[0])
    amount = sql.value(expr.args[1])
    unit = sql.value(expr.args[2]) if len(expr.args) > 2 else sql.bind("days")
    if expr.op == "add_months":
        unit = sql.bind("months")
    if not unit.const or not isinstance(unit.value, str):
        raise NotTranslatable("date_add needs a fixed unit")
    name = unit.value.lower()
    name = name if name in UNITS else name + "s"
    if value.type is not ValueType.DATE or amount.type is not ValueType.INTEGER:
        raise NotTranslatable("date_add in SQL adds whole units to a date field")
    if name in ("days", "weeks"):
        count = amount.sql * 7 if name == "weeks" else amount.sql
        return SqlValue(AddDays(value.sql, count), ValueType.DATE)
    if name in ("months", "years"):
        count = amount.sql * 12 if name == "years" else amount.sql
        return SqlValue(AddMonths(value.sql, count), ValueType.DATE)
    raise NotTranslatable(f"adding {name} to a date has no SQL form")


env = {"needs_env": True}
register(Operator("today", emit_today, arity=(0, 0), result=ValueType.DATE, formula="TODAY",
                  **env))
register(Operator("now", emit_now, arity=(0, 0), result=ValueType.DATETIME, formula="NOW",
                  **env))
register(Operator("days_since", emit_days_since, arity=(1, 1), result=ValueType.INTEGER,
                  sql_value=sql_days_since, formula="DAYS_SINCE", **env))
register(Operator("days_until", emit_days_until, arity=(1, 1), result=ValueType.INTEGER,
                  sql_value=sql_days_until, formula="DAYS_UNTIL", **env))
register(Operator("date_add", emit_date_add, arity=(2, 3),
                  result=lambda e: e.args[0].type if e.args[0].type.temporal else ValueType.ANY,
                  sql_value=sql_date_add, formula="DATE_ADD"))
register(Operator("add_months", emit_add_months, arity=(2, 2),
                  result=lambda e: e.args[0].type if e.args[0].type.temporal else ValueType.ANY,
                  sql_value=sql_date_add, formula="ADDMONTHS"))
register(Operator("date", emit_date, arity=(1, 3), result=ValueType.DATE, formula="DATE"))
register(Operator("datedif", emit_datedif, arity=(3, 3), result=ValueType.INTEGER,
                  formula="DATEDIF"))
register(Operator("year", _part("year"), arity=(1, 1), result=ValueType.INTEGER,
                  formula="YEAR"))
register(Operator("month", _part("month"), arity=(1, 1), result=ValueType.INTEGER,
                  formula="MONTH"))
register(Operator("day", _part("day"), arity=(1, 1), result=ValueType.INTEGER, formula="DAY"))
