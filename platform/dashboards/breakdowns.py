"""Breakdowns (one entity grouped by a field, several measures, sorted, top N) and stage
funnels (the options of a select field in order, with their categories)."""

from __future__ import annotations

from typing import Any

from loom.engines.query.periods import Period
from loom.metamodel.dashboards import BreakdownWidget, StageFunnel
from loom.metamodel.entity import SYSTEM_FIELDS
from loom.metamodel.fields import FieldSpec, FieldType
from loom.metamodel.i18n import localize
from loom.platform.dashboards.formats import number_format
from loom.platform.dashboards.grouping import (
    Aggregation,
    bucket_key,
    data_span,
    grouped,
    time_spans,
)
from loom.platform.dashboards.groups import (
    Group,
    bin_index,
    bin_labels,
    blank,
    labelled,
    option_groups,
)
from loom.platform.dashboards.measures import Measuring


def _field(m: Measuring, entity: str, name: str) -> FieldSpec | None:
    spec = m.runtime.entity(entity).fields.get(name)
    if spec is None and name in SYSTEM_FIELDS:
        return FieldSpec(type=SYSTEM_FIELDS[name])
    return spec


async def breakdown_figures(m: Measuring, widget: BreakdownWidget, period: Period,
                            locale: str) -> dict[str, Any]:
    entity, group_field = widget.entity, widget.group_by
    spec = _field(m, entity, group_field)
    measures = [Aggregation(x.name, x.aggregate, x.field, x.expression, x.filter)
                for x in widget.measures]
    natural = spec is not None and spec.storage_type() in (FieldType.SELECT,
                                                           FieldType.BOOLEAN)
    if widget.bucket is not None:
        span = period if period.bounded and widget.date_field == group_field else \
            await data_span(m, entity, group_field, widget.filter, widget.date_field, period)
        spans = time_spans(span, widget.bucket)
        found = await grouped(m, entity, group_field, bucket_key(m, entity, group_field,
                                                                 spans),
                              measures, widget.filter, widget.date_field, period)
        groups = [Group(index, s.key) for index, s in enumerate(spans)]
        natural = True
    elif widget.bins is not None:
        edges = widget.bins
        found = await grouped(m, entity, group_field,
                              lambda source: bin_index(source.resolve(group_field), edges),
                              measures, widget.filter, widget.date_field, period)
        groups = [Group(index, label) for index, label in enumerate(bin_labels(edges))]
        natural = True
    else:
        found = await grouped(m, entity, group_field,
                              lambda source: source.resolve(group_field), measures,
                              widget.filter, widget.date_field, period)
        groups = await _groups(m, spec, list(found.values), locale)
    if widget.include_blank and None in found.values:
        groups.append(blank(locale))
    rows = [{**group.as_json(), "values": found.of(group.key)} for group in groups]
    if widget.bucket is not None or widget.bins is not None:
        # the bucket's or bin's name is its key, its position is internal
        for row in rows:
            if row["key"] is not None:
                row["key"] = row["label"]
    rows = _sorted(rows, widget.sort, natural, [x.name for x in widget.measures])
    if widget.limit is not None:
        rows = rows[:widget.limit]
    field_label = m.runtime.entity(entity).field_label(group_field)
    return {
        "group": {"field": group_field, "label": localize(field_label, locale),
                  "bucket": widget.bucket},
        "measures": [{"name": x.name, "label": localize(x.label, locale) or x.name,
                      "format": number_format(m.runtime, entity, x.aggregate, x.field,
                                              x.expression, x.format, x.unit, locale)}
                     for x in widget.measures],
        "rows": rows,
    }


async def _groups(m: Measuring, spec: FieldSpec | None, keys: list[Any],
                  locale: str) -> list[Group]:
    if spec is not None and spec.type is FieldType.SELECT:
        options = option_groups(spec, locale)
        known = {group.key for group in options}
        # values no option names any more (an option removed) still count, under their value
        return options + [Group(k, str(k)) for k in keys if k is not None and k not in known]
    if spec is not None and spec.type is FieldType.BOOLEAN:
        return await labelled(m, spec, [True, False], locale)
    return await labelled(m, spec, keys, locale)


def _sorted(rows: list[dict[str, Any]], sort: str | None, natural: bool,
            names: list[str]) -> list[dict[str, Any]]:
    if sort is None and natural:
        return rows
    sort = sort or f"-{names[0]}"
    descending, key = sort.startswith("-"), sort.lstrip("-")
    # the blank group, and groups without a value, come last whichever the direction
    blanks = [row for row in rows if row["key"] is None or _sort_value(row, key) is None]
    valued = [row for row in rows if row["key"] is not None
              and _sort_value(row, key) is not None]
    valued.sort(key=lambda row: _sort_value(row, key), reverse=descending)
    return valued + blanks


def _sort_value(row: dict[str, Any], key: str) -> Any:
    return row["label"] if key == "group" else row["values"].get(key)


async def stage_steps(m: Measuring, stages: StageFunnel, period: Period,
                      locale: str) -> list[dict[str, Any]]:
    """Steps over the options of a select field. Cumulative by default: a record at a
    later stage passed the earlier ones; records at an excluded option (lost) entered
    the funnel, so they count in the first step only."""
    spec = m.runtime.entity(stages.entity).fields[stages.field]
    found = await grouped(m, stages.entity, stages.field,
                          lambda source: source.resolve(stages.field),
                          [Aggregation("value", stages.aggregate, stages.value_field)],
                          stages.filter, stages.date_field, period)
    options = [o for o in spec.options or [] if o.category not in stages.exclude_categories]
    left_out = [o for o in spec.options or [] if o.category in stages.exclude_categories]
    own = [found.of(o.value)["value"] for o in options]
    outside = [found.of(o.value)["value"] for o in left_out]
    steps = []
    for position, option in enumerate(options):
        value = own[position]
        if stages.cumulative:
            value = _total(own[position:] + (outside if position == 0 else []))
        steps.append({"name": option.value,
                      "label": localize(option.label, locale) or option.value,
                      "category": option.category, "value": value,
                      "current": own[position]})
    return steps


def _total(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return sum(present[1:], present[0]) if present else None
