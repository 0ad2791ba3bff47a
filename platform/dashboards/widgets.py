"""The figures of each widget kind as JSON: the numbers a page draws, with labels in the
reader's language and format hints. A widget the reader may not see says so
(``"available": false`` and the reason); the others still show."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from loom.engines.query.periods import Period, preset_period
from loom.metamodel.dashboards import (
    BreakdownWidget,
    FunnelWidget,
    MeasureSpec,
    MetricWidget,
    RatioWidget,
    SeriesWidget,
)
from loom.metamodel.i18n import localize
from loom.platform.dashboards.breakdowns import breakdown_figures, stage_steps
from loom.platform.dashboards.formats import number_format, percent_format
from loom.platform.dashboards.grouping import Aggregation, bucket_key, grouped, time_spans
from loom.platform.dashboards.measures import Measuring, WidgetUnavailable

CONVERSION_SCALE = 2


def share(part: Any, whole: Any, scale: int = CONVERSION_SCALE,
          percent: bool = True) -> Decimal | None:
    """part / whole (× 100 for a percentage), half away from zero; none when whole is 0."""
    if part is None or not whole:
        return None
    value = Decimal(part) / Decimal(whole) * (100 if percent else 1)
    return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def widget_period(m: Measuring, widget: Any) -> Period:
    if widget.period is None:
        return m.period
    return preset_period(widget.period, m.env.today)  # type: ignore[arg-type]


def measure_format(m: Measuring, measure: MeasureSpec, locale: str) -> dict[str, Any]:
    return number_format(m.runtime, measure.entity, measure.aggregate, measure.field,
                         measure.expression, measure.format, measure.unit, locale)


async def measure_value(m: Measuring, measure: MeasureSpec, period: Period) -> Any:
    return await m.single(measure.entity, measure.aggregate, measure.field,
                          measure.expression, measure.filter, measure.date_field, period)


async def metric(m: Measuring, widget: MetricWidget, locale: str) -> dict[str, Any]:
    value = await measure_value(m, widget, widget_period(m, widget))
    return {"value": value, "format": measure_format(m, widget, locale)}


async def ratio(m: Measuring, widget: RatioWidget, locale: str) -> dict[str, Any]:
    period = widget_period(m, widget)
    parts = {}
    for side in ("numerator", "denominator"):
        measure: MeasureSpec = getattr(widget, side)
        parts[side] = {"label": localize(measure.label, locale) or None,
                       "value": await measure_value(m, measure, period),
                       "format": measure_format(m, measure, locale)}
    value = share(parts["numerator"]["value"], parts["denominator"]["value"], widget.scale,
                  widget.percent)
    hint = percent_format(widget.scale) if widget.percent else \
        {"type": "number", "scale": widget.scale}
    if widget.format is not None:
        hint["type"] = widget.format
    return {"value": value, "format": hint, **parts}


def with_conversions(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first = steps[0]["value"] if steps else None
    previous = None
    for position, step in enumerate(steps):
        step["conversion_from_previous"] = share(step["value"], previous) \
            if position else None
        step["conversion_from_first"] = share(step["value"], first) if position else None
        previous = step["value"]
    return steps


async def funnel(m: Measuring, widget: FunnelWidget, locale: str) -> dict[str, Any]:
    period = widget_period(m, widget)
    if widget.stages is not None:
        steps = await stage_steps(m, widget.stages, period, locale)
        return {"steps": with_conversions(steps), "format": number_format(
            m.runtime, widget.stages.entity, widget.stages.aggregate,
            widget.stages.value_field, None, None, None, locale)}
    steps = []
    for step in widget.steps or []:
        steps.append({"name": step.name, "label": localize(step.label, locale) or step.name,
                      "value": await measure_value(m, step, period),
                      "format": measure_format(m, step, locale)})
    return {"steps": with_conversions(steps)}


async def series(m: Measuring, widget: SeriesWidget, locale: str) -> dict[str, Any]:
    period = widget_period(m, widget)
    spans = time_spans(period, widget.bucket)
    drawn = []
    for item in widget.series:
        assert item.date_field is not None  # checked at publish
        found = await grouped(
            m, item.entity, item.date_field, bucket_key(m, item.entity, item.date_field, spans),
            [Aggregation("value", item.aggregate, item.field, item.expression)],
            item.filter, item.date_field, period)
        drawn.append({"name": item.name, "label": localize(item.label, locale) or item.name,
                      "format": measure_format(m, item, locale),
                      "values": [found.of(position)["value"]
                                 for position in range(len(spans))]})
    return {"bucket": widget.bucket,
            "buckets": [{"key": span.key, "from": span.start,
                         "to": span.end.fromordinal(span.end.toordinal() - 1)}
                        for span in spans],
            "series": drawn}


async def breakdown(m: Measuring, widget: BreakdownWidget, locale: str) -> dict[str, Any]:
    return await breakdown_figures(m, widget, widget_period(m, widget), locale)


KINDS: dict[str, Callable[[Measuring, Any, str], Awaitable[dict[str, Any]]]] = {
    "metric": metric, "ratio": ratio, "breakdown": breakdown, "funnel": funnel,
    "series": series,
}


async def widget_figures(m: Measuring, widget: Any, locale: str) -> dict[str, Any]:
    """One widget as JSON, available or not."""
    head: dict[str, Any] = {"name": widget.name, "kind": widget.kind,
                            "label": localize(widget.label, locale)}
    if widget.description is not None:
        head["description"] = localize(widget.description, locale)
    for hint in ("chart", "width"):
        if getattr(widget, hint) is not None:
            head[hint] = getattr(widget, hint)
    if widget.period is not None:
        head["period"] = widget_period(m, widget).as_json()
    m.filtered = set()
    try:
        body = await KINDS[widget.kind](m, widget, locale)
    except WidgetUnavailable as exc:
        return {**head, "available": False, "reason": exc.reason.render(locale)}
    if m.extra_filter is not None:
        head["filtered"] = sorted(m.filtered)  # the entities the extra filter narrowed
    return {**head, "available": True, **body}
