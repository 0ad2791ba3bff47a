"""Publish-time checks of dashboards: every entity, field, role and expression a widget names
exists and fits what the widget does with it (a sum needs numbers, a period needs a date,
a stage funnel needs a select), and every filter and formula can run in the database."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from loom.engines.expressions import Scope, check_formula
from loom.engines.expressions.formula import compile_formula
from loom.engines.query.view_checks import check_sql_condition, unknown_role
from loom.metamodel.app import AppDocument
from loom.metamodel.dashboards import (
    BreakdownWidget,
    DashboardSpec,
    FunnelWidget,
    MeasureSpec,
    widget_measures,
)
from loom.metamodel.entity import SYSTEM_FIELDS
from loom.metamodel.errors import Problem
from loom.metamodel.fields import NUMBER_TYPES, FieldType
from loom.metamodel.i18n import did_you_mean, message, register_messages

NUMERIC = NUMBER_TYPES | {FieldType.INTEGER, FieldType.RATING}
TEMPORAL = frozenset({FieldType.DATE, FieldType.DATETIME})
BINNABLE = frozenset({*NUMBER_TYPES, FieldType.INTEGER, FieldType.RATING})
ORDERABLE = NUMERIC | TEMPORAL
# Values that have no single comparable column: nothing to aggregate or group by.
UNGROUPABLE = frozenset({FieldType.MULTISELECT, FieldType.SUBTABLE, FieldType.JSON,
                         FieldType.ADDRESS, FieldType.LOCATION, FieldType.FILE,
                         FieldType.IMAGE, FieldType.SIGNATURE, FieldType.RICH_TEXT,
                         FieldType.TEXTAREA})

register_messages({
    "dash_unknown_entity": {"en": "there is no entity '{entity}' in this app",
                            "zh-CN": "本应用中没有实体“{entity}”"},
    "dash_needs_number": {"en": "{aggregate} needs a number, and '{field}' is {type}",
                          "zh-CN": "{aggregate} 需要数字，而“{field}”是 {type}"},
    "dash_needs_order": {"en": "{aggregate} needs a number or a date, and '{field}' is {type}",
                         "zh-CN": "{aggregate} 需要数字或日期，而“{field}”是 {type}"},
    "dash_needs_value": {"en": "{aggregate} needs a field or an expression",
                         "zh-CN": "{aggregate} 需要指定字段或表达式"},
    "dash_field_and_expression": {
        "en": "give either a field or an expression, not both",
        "zh-CN": "字段和表达式只能二选一"},
    "dash_not_date": {"en": "'{field}' is {type}, not a date or datetime",
                      "zh-CN": "“{field}”是 {type}，不是日期或日期时间"},
    "dash_not_groupable": {"en": "a {type} field cannot be grouped by or aggregated",
                           "zh-CN": "{type} 类型的字段不能用于分组或汇总"},
    "dash_bins_need_number": {
        "en": "bins apply to number groups only; '{field}' is {type}",
        "zh-CN": "分段只适用于数字分组；“{field}”是 {type} 类型"},
    "dash_bins_ascending": {"en": "the bin edges must rise strictly, e.g. [0, 100, 500]",
                            "zh-CN": "分段边界必须严格递增，例如 [0, 100, 500]"},
    "dash_bucket_needs_date": {"en": "buckets apply to date and datetime groups only",
                               "zh-CN": "时间粒度只适用于按日期或日期时间分组"},
    "dash_date_needs_bucket": {
        "en": "grouping by the date '{field}' needs a bucket (day, week, month, quarter, "
              "year)",
        "zh-CN": "按日期“{field}”分组需要指定时间粒度（day、week、month、quarter、year）"},
    "dash_not_select": {"en": "a stage funnel needs a select field, and '{field}' is {type}",
                        "zh-CN": "阶段漏斗需要单选字段，而“{field}”是 {type}"},
    "dash_funnel_shape": {"en": "a funnel needs either steps or stages (exactly one)",
                          "zh-CN": "漏斗需要设置 steps 或 stages（二者之一）"},
    "dash_no_steps": {"en": "no option of '{field}' is left as a step",
                      "zh-CN": "“{field}”没有可作为步骤的选项"},
    "dash_bad_sort": {"en": "'{sort}' is not 'group' or a measure of this widget "
                            "({names})",
                      "zh-CN": "“{sort}”不是 group 或本组件的度量（{names}）"},
    "dash_duplicate": {"en": "the name '{name}' is used twice in this dashboard",
                       "zh-CN": "名称“{name}”在本看板中重复"},
    "dash_needs_date_field": {"en": "a series measure needs a date_field to place it in time",
                              "zh-CN": "时间序列的度量需要 date_field 才能按时间排列"},
    "dash_unknown_field": {"en": "{entity} has no field '{field}'{hint_en}",
                           "zh-CN": "{entity}没有字段“{field}”{hint_zh}"},
    "dash_not_sql": {"en": "cannot run in the database: {reason}",
                     "zh-CN": "无法在数据库中执行：{reason}"},
})


def check_dashboards(doc: AppDocument) -> list[Problem]:
    problems: list[Problem] = []
    for name, dashboard in doc.dashboards.items():
        problems += _check_dashboard(doc, f"dashboards.{name}", dashboard)
    return problems


def _check_dashboard(doc: AppDocument, base: str, dashboard: DashboardSpec) -> list[Problem]:
    problems = [unknown_role(role, f"{base}.roles[{i}]")
                for i, role in enumerate(dashboard.roles) if role not in doc.roles]
    seen: set[str] = set()
    for position, widget in enumerate(dashboard.widgets):
        path = f"{base}.widgets[{position}]"
        if widget.name in seen:
            problems.append(Problem(f"{path}.name", message("dash_duplicate",
                                                            name=widget.name)))
        seen.add(widget.name)
        for where, measure in widget_measures(widget):
            problems += _check_measure(doc, f"{path}.{where}" if where else path, measure,
                                       needs_date=widget.kind == "series")
        if isinstance(widget, BreakdownWidget):
            problems += _check_breakdown(doc, path, widget)
        if isinstance(widget, FunnelWidget):
            problems += _check_funnel(doc, path, widget)
    return problems


class _Entity:
    """One entity as the checks of a widget part see it."""

    def __init__(self, doc: AppDocument, name: str) -> None:
        self.name = name
        self.spec = doc.entities.get(name)
        self.scope = Scope.for_entity(doc, name) if self.spec is not None else None

    def field_type(self, field: str) -> FieldType | None:
        if field in SYSTEM_FIELDS:
            return SYSTEM_FIELDS[field]
        spec = self.spec.fields.get(field) if self.spec is not None else None
        if spec is None or not spec.has_column:
            return None if spec is None else spec.type
        return spec.storage_type() if spec.computed else spec.type

    def unknown(self, path: str, field: str) -> Problem:
        hint_en, hint_zh = did_you_mean(
            field, [*SYSTEM_FIELDS, *(self.spec.fields if self.spec else {})])
        return Problem(path, message("dash_unknown_field", entity=self.name, field=field,
                                     hint_en=hint_en, hint_zh=hint_zh))


def _entity(doc: AppDocument, path: str, name: str) -> tuple[_Entity, list[Problem]]:
    entity = _Entity(doc, name)
    if entity.spec is None:
        return entity, [Problem(f"{path}.entity", message("dash_unknown_entity", entity=name))]
    return entity, []


def _check_measure(doc: AppDocument, path: str, measure: MeasureSpec, *,
                   needs_date: bool = False) -> list[Problem]:
    entity, problems = _entity(doc, path, measure.entity)
    if problems:
        return problems
    problems += _check_value(entity, path, measure.aggregate, measure.field,
                             measure.expression)
    problems += _check_filter(entity, f"{path}.filter", measure.filter)
    problems += _check_date(entity, f"{path}.date_field", measure.date_field)
    if needs_date and not measure.date_field:
        problems.append(Problem(f"{path}.date_field", message("dash_needs_date_field")))
    return problems


def _check_value(entity: _Entity, path: str, aggregate: str, field: str | None,
                 expression: str | None) -> list[Problem]:
    if field and expression:
        return [Problem(f"{path}.expression", message("dash_field_and_expression"))]
    if aggregate != "count" and not field and not expression:
        return [Problem(f"{path}.field", message("dash_needs_value", aggregate=aggregate))]
    if expression:
        return _check_expression(entity, f"{path}.expression", aggregate, expression)
    if not field:
        return []
    kind = entity.field_type(field)
    if kind is None:
        return [entity.unknown(f"{path}.field", field)]
    if kind in UNGROUPABLE:
        return [Problem(f"{path}.field", message("dash_not_groupable", type=kind))]
    if aggregate in ("sum", "avg") and kind not in NUMERIC and kind is not FieldType.BOOLEAN:
        return [Problem(f"{path}.field", message("dash_needs_number", aggregate=aggregate,
                                                 field=field, type=kind))]
    if aggregate in ("min", "max") and kind not in ORDERABLE:
        return [Problem(f"{path}.field", message("dash_needs_order", aggregate=aggregate,
                                                 field=field, type=kind))]
    return []


def _check_expression(entity: _Entity, path: str, aggregate: str,
                      expression: str) -> list[Problem]:
    problems = check_formula(expression, entity.scope)
    if problems:
        return [_at(path, p) for p in problems]
    compiled = compile_formula(expression, entity.scope)
    if compiled.sql_problem is not None:
        return [Problem(path, message("dash_not_sql", reason=compiled.sql_problem))]
    if aggregate in ("sum", "avg") and not (compiled.type.numeric or
                                            compiled.type.value in ("any", "boolean")):
        return [Problem(path, message("dash_needs_number", aggregate=aggregate,
                                      field=expression, type=compiled.type.value))]
    return []


def _check_filter(entity: _Entity, path: str, rule: Any) -> list[Problem]:
    if rule is None or rule == {}:
        return []
    return check_sql_condition(rule, entity.scope, path)


def _check_date(entity: _Entity, path: str, field: str | None) -> list[Problem]:
    if not field:
        return []
    kind = entity.field_type(field)
    if kind is None:
        return [entity.unknown(path, field)]
    if kind not in TEMPORAL:
        return [Problem(path, message("dash_not_date", field=field, type=kind))]
    return []


def _at(path: str, problem: Problem) -> Problem:
    where = f"{path} ({problem.field})" if problem.field else path
    return Problem(where, problem.message, problem.code)


def _check_breakdown(doc: AppDocument, path: str, widget: BreakdownWidget) -> list[Problem]:
    entity, problems = _entity(doc, path, widget.entity)
    if problems:
        return problems
    kind = entity.field_type(widget.group_by)
    if kind is None:
        problems.append(entity.unknown(f"{path}.group_by", widget.group_by))
    elif kind in UNGROUPABLE:
        problems.append(Problem(f"{path}.group_by", message("dash_not_groupable", type=kind)))
    elif kind in TEMPORAL and widget.bucket is None:
        problems.append(Problem(f"{path}.bucket", message("dash_date_needs_bucket",
                                                          field=widget.group_by)))
    elif kind not in TEMPORAL and widget.bucket is not None:
        problems.append(Problem(f"{path}.bucket", message("dash_bucket_needs_date")))
    if widget.bins is not None:
        if kind is not None and kind not in BINNABLE:
            problems.append(Problem(f"{path}.bins", message("dash_bins_need_number",
                                                            field=widget.group_by, type=kind)))
        if any(low >= high for low, high in pairwise(widget.bins)):
            problems.append(Problem(f"{path}.bins", message("dash_bins_ascending")))
    names = [measure.name for measure in widget.measures]
    for position, measure in enumerate(widget.measures):
        where = f"{path}.measures[{position}]"
        if names.count(measure.name) > 1 and names.index(measure.name) != position:
            problems.append(Problem(f"{where}.name", message("dash_duplicate",
                                                             name=measure.name)))
        problems += _check_value(entity, where, measure.aggregate, measure.field,
                                 measure.expression)
        problems += _check_filter(entity, f"{where}.filter", measure.filter)
    problems += _check_filter(entity, f"{path}.filter", widget.filter)
    problems += _check_date(entity, f"{path}.date_field", widget.date_field)
    if widget.sort and widget.sort.lstrip("-") not in ("group", *names):
        problems.append(Problem(f"{path}.sort", message("dash_bad_sort", sort=widget.sort,
                                                        names=", ".join(names))))
    return problems


def _check_funnel(doc: AppDocument, path: str, widget: FunnelWidget) -> list[Problem]:
    if (widget.steps is None) == (widget.stages is None):
        return [Problem(path, message("dash_funnel_shape"))]
    if widget.steps is not None:
        names = [step.name for step in widget.steps]
        return [Problem(f"{path}.steps[{i}].name", message("dash_duplicate", name=name))
                for i, name in enumerate(names) if names.index(name) != i]
    stages = widget.stages
    assert stages is not None
    where = f"{path}.stages"
    entity, problems = _entity(doc, where, stages.entity)
    if problems:
        return problems
    kind = entity.field_type(stages.field)
    if kind is None:
        return [entity.unknown(f"{where}.field", stages.field)]
    if kind is not FieldType.SELECT:
        return [Problem(f"{where}.field", message("dash_not_select", field=stages.field,
                                                  type=kind))]
    spec = entity.spec.fields[stages.field] if entity.spec else None
    steps = [o for o in (spec.options if spec else None) or []
             if o.category not in stages.exclude_categories]
    if not steps:
        problems.append(Problem(f"{where}.exclude_categories",
                                message("dash_no_steps", field=stages.field)))
    problems += _check_value(entity, where, stages.aggregate, stages.value_field, None)
    problems += _check_filter(entity, f"{where}.filter", stages.filter)
    problems += _check_date(entity, f"{where}.date_field", stages.date_field)
    return problems
