"""One GROUP BY query for many measures of one entity: breakdowns, stage funnels and time
series all read their numbers through ``grouped``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.sql import ColumnElement

from loom.engines.expressions import NotTranslatable, compile_condition
from loom.engines.expressions.scope import ValueType
from loom.engines.query.aggregates import AggregateSql, Source, bucket_index
from loom.engines.query.periods import Period, TimeBucket, buckets
from loom.metamodel.i18n import message, register_messages
from loom.platform.dashboards.measures import Measuring, WidgetUnavailable

register_messages({
    "dash_too_many_buckets": {
        "en": "The period holds too many {bucket} buckets: choose a shorter period or a "
              "coarser bucket",
        "zh-CN": "该时间段内按{bucket}划分的区间过多：请缩短时间段或选择更粗的时间粒度"},
    "dash_needs_bounded": {
        "en": "A time series needs a period with a start and an end",
        "zh-CN": "时间序列需要有开始和结束日期的时间段"},
})


@dataclass(frozen=True)
class Aggregation:
    """One measure of a grouped query: ``only`` narrows it to some of the rows."""

    name: str
    function: str
    field: str | None = None
    expression: str | None = None
    only: Any = None


@dataclass
class Grouped:
    values: dict[Any, dict[str, Any]]
    empty: dict[str, Any]  # the values of a group without rows (0 counts, no average)

    def of(self, key: Any) -> dict[str, Any]:
        return self.values.get(key, self.empty)


async def grouped(m: Measuring, entity: str, group_field: str,
                  key: Callable[[Source], ColumnElement[Any]],
                  measures: list[Aggregation], rule: Any = None,
                  date_field: str | None = None, period: Period | None = None) -> Grouped:
    """The measures per group key, counted over the reader's records only."""
    reads = {group_field}
    for measure in measures:
        reads |= m.value_reads(entity, measure.field, measure.expression)
    source, where = await m.scoped(entity, reads, rule, date_field, period)
    built: list[AggregateSql] = []
    for measure in measures:
        only = None
        if measure.only not in (None, {}):
            compiled = compile_condition(measure.only, source.scope)
            m.require_visible(entity, await m.access(entity), set(compiled.reads))
            try:
                only = source.condition(measure.only)
            except NotTranslatable as exc:
                raise WidgetUnavailable(message("dash_cannot_run", reason=str(exc))) from None
        built.append(m.aggregate(source, measure.name, measure.function, measure.field,
                                 measure.expression, only))
    columns = [column for item in built for column in item.columns]
    # GROUP BY the first column by position: a CASE of bound parameters written twice
    # would be two different expressions to PostgreSQL
    query = select(key(source).label("group_key"), *columns).select_from(source.table)
    if where is not None:
        query = query.where(where)
    rows = (await m.conn.execute(query.group_by(literal_column("1")))).mappings().all()
    values = {row["group_key"]: {measure.name: item.finish(row)
                                 for measure, item in zip(measures, built, strict=True)}
              for row in rows}
    nothing = {column.name: None for column in columns}
    empty = {measure.name: item.finish(nothing)
             for measure, item in zip(measures, built, strict=True)}
    return Grouped(values, empty)


def temporal_kind(m: Measuring, entity: str, field: str) -> ValueType:
    info = m.source(entity).scope.lookup(field)
    return info.type if info is not None and info.type.temporal else ValueType.DATE


def time_spans(period: Period, bucket: str) -> list[TimeBucket]:
    if not period.bounded:
        raise WidgetUnavailable(message("dash_needs_bounded"))
    assert period.start is not None and period.end is not None
    try:
        return buckets(period.start, period.end, bucket)
    except ValueError:
        raise WidgetUnavailable(message("dash_too_many_buckets", bucket=bucket)) from None


async def data_span(m: Measuring, entity: str, field: str, rule: Any,
                    date_field: str | None, period: Period) -> Period:
    """The dates the reader's records actually cover, for buckets over an open period."""
    source, where = await m.scoped(entity, {field}, rule, date_field, period)
    column = source.resolve(field)
    query = select(func.min(column), func.max(column)).select_from(source.table)
    if where is not None:
        query = query.where(where)
    low, high = (await m.conn.execute(query)).one()
    low, high = _day(low, m), _day(high, m)
    if low is None or high is None:  # nothing to show: no buckets
        today = m.env.today or date.min
        return Period(period.start or today, period.start or today)
    start = period.start if period.start is not None else low
    end = period.end if period.end is not None else date.fromordinal(high.toordinal() + 1)
    return Period(start, end)


def _day(value: Any, m: Measuring) -> date | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(m.env.timezone).date()
    return value


def bucket_key(m: Measuring, entity: str, field: str, spans: list[TimeBucket]
               ) -> Callable[[Source], ColumnElement[Any]]:
    kind = temporal_kind(m, entity, field)
    return lambda source: bucket_index(source.resolve(field), kind, spans, m.env.timezone)
