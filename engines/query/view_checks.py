"""Publish-time checks of views: the entity, columns, sort and roles a view names exist,
a kanban groups by a select field, and the filter is a sound condition that runs in the
database (a view is always one query). The column, sort and filter checks also serve the
related lists of forms."""

from __future__ import annotations

from typing import Any

from loom.engines.expressions import Scope, check_condition, compile_condition
from loom.engines.query.keyset import parse_sort
from loom.metamodel.app import AppDocument
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.errors import LoomError, Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import closest_name, message, register_messages
from loom.metamodel.views import ViewSpec

register_messages({
    "view_unknown_entity": {"en": "there is no entity '{entity}' in this app",
                            "zh-CN": "本应用中没有实体“{entity}”"},
    "view_unknown_column": {"en": "{entity} has no field '{field}'{hint_en}",
                            "zh-CN": "{entity}没有字段“{field}”{hint_zh}"},
    "view_column_no_value": {"en": "'{field}' is a {type} field and cannot be a column",
                             "zh-CN": "“{field}”是 {type} 类型的字段，不能作为列"},
    "view_duplicate_column": {"en": "the column '{field}' appears more than once",
                              "zh-CN": "列“{field}”重复出现"},
    "view_filter_not_sql": {"en": "this filter cannot run in the database: {reason}",
                            "zh-CN": "该筛选条件无法在数据库中执行：{reason}"},
    "view_kanban_needs_group": {
        "en": "a kanban view needs group_by: the select field whose options are its columns",
        "zh-CN": "看板视图需要 group_by：以其选项作为列的单选字段"},
    "view_group_not_select": {
        "en": "a kanban groups by a select field, and '{field}' is {type}",
        "zh-CN": "看板只能按单选字段分组，而“{field}”是 {type}"},
    "app_home_unknown": {"en": "The app opens on '{name}', which is no view or dashboard",
                         "zh-CN": "应用首页“{name}”既不是视图也不是看板"},
    "view_rank_kanban": {"en": "rank applies to kanban views only",
                         "zh-CN": "rank 只适用于看板视图"},
    "view_rank_not_number": {
        "en": "cards are ranked by a number field people may set, and '{field}' is {type}",
        "zh-CN": "卡片排序须使用可填写的数字字段，而“{field}”是{type}"},
    "view_sum_kanban": {"en": "sum applies to kanban views only",
                        "zh-CN": "sum 只适用于看板视图"},
    "view_sum_not_number": {
        "en": "a kanban sums a number field, and '{field}' is {type}",
        "zh-CN": "看板只能合计数字字段，而“{field}”是{type}"},
    "view_group_list": {"en": "group_by applies to kanban views only",
                        "zh-CN": "group_by 只适用于看板视图"},
    "query_unknown_role": {"en": "there is no role '{role}' in this app",
                          "zh-CN": "本应用中没有角色“{role}”"},
})


def check_views(doc: AppDocument) -> list[Problem]:
    problems: list[Problem] = []
    for name, view in doc.views.items():
        problems += _check_view(doc, f"views.{name}", view)
    home = doc.app.home
    if home is not None and home not in doc.views and home not in doc.dashboards:
        problems.append(Problem("app.home", message("app_home_unknown", name=home)))
    return problems


def _check_view(doc: AppDocument, base: str, view: ViewSpec) -> list[Problem]:
    spec = doc.entities.get(view.entity)
    if spec is None:
        return [Problem(f"{base}.entity", message("view_unknown_entity", entity=view.entity))]
    problems = check_columns(doc, view.entity, view.columns, f"{base}.columns")
    problems += check_sort(spec, view.sort, f"{base}.sort")
    problems += check_filter(doc, view.entity, view.filter, f"{base}.filter")
    problems += _check_group(spec, view, f"{base}.group_by")
    problems += _check_sum(spec, view, f"{base}.sum")
    problems += _check_rank(spec, view, f"{base}.rank")
    for role in view.roles or ():
        if role not in doc.roles:
            problems.append(unknown_role(role, f"{base}.roles"))
    return problems


def _check_group(spec: EntitySpec, view: ViewSpec, path: str) -> list[Problem]:
    if view.kind == "list":
        return [Problem(path, message("view_group_list"))] if view.group_by else []
    if view.group_by is None:
        return [Problem(path, message("view_kanban_needs_group"))]
    field = spec.fields.get(view.group_by)
    if field is None:
        return [_unknown(spec, view.group_by, path)]
    if field.type is not FieldType.SELECT:
        return [Problem(path, message("view_group_not_select", field=view.group_by,
                                      type=field.type.value))]
    return []


NUMBERS = frozenset({FieldType.INTEGER, FieldType.DECIMAL, FieldType.CURRENCY,
                     FieldType.PERCENT})


def _check_sum(spec: EntitySpec, view: ViewSpec, path: str) -> list[Problem]:
    if view.sum is None:
        return []
    if view.kind != "kanban":
        return [Problem(path, message("view_sum_kanban"))]
    field = spec.fields.get(view.sum)
    if field is None:
        return [_unknown(spec, view.sum, path)]
    if not field.has_column or field.storage_type() not in NUMBERS:
        return [Problem(path, message("view_sum_not_number", field=view.sum,
                                      type=field.type.value))]
    return []


def _check_rank(spec: EntitySpec, view: ViewSpec, path: str) -> list[Problem]:
    if view.rank is None:
        return []
    if view.kind != "kanban":
        return [Problem(path, message("view_rank_kanban"))]
    field = spec.fields.get(view.rank)
    if field is None:
        return [_unknown(spec, view.rank, path)]
    if field.computed or field.storage_type() not in (FieldType.INTEGER, FieldType.DECIMAL):
        return [Problem(path, message("view_rank_not_number", field=view.rank,
                                      type=field.type.value))]
    return []


def check_columns(doc: AppDocument, entity: str, columns: list[str],
                  path: str) -> list[Problem]:
    """Every column is a field with a value of its own (stored, or a system field)."""
    spec = doc.entities[entity]
    problems: list[Problem] = []
    seen: set[str] = set()
    for position, column in enumerate(columns):
        where = f"{path}[{position}]"
        if column in seen:
            problems.append(Problem(where, message("view_duplicate_column", field=column)))
        seen.add(column)
        if column in SYSTEM_FIELDS:
            continue
        field = spec.fields.get(column)
        if field is None:
            problems.append(_unknown(spec, column, where))
        elif not field.has_column:
            problems.append(Problem(where, message("view_column_no_value", field=column,
                                                   type=field.type.value)))
    return problems


def check_sort(spec: EntitySpec, sort: str | None, path: str) -> list[Problem]:
    try:
        parse_sort(sort, spec)
    except LoomError as exc:
        return [Problem(path, exc.detail if exc.detail is not None else str(exc))]
    return []


def check_filter(doc: AppDocument, entity: str, rule: Any, path: str) -> list[Problem]:
    """A sound condition on ``entity`` that has a SQL form."""
    if rule is None:
        return []
    return check_sql_condition(rule, Scope.for_entity(doc, entity), path)


def check_sql_condition(rule: Any, scope: Scope, path: str) -> list[Problem]:
    """A sound condition that has a SQL form (a view's, a related list's, a dashboard
    measure's filter): they all run in the database."""
    found = check_condition(rule, scope)
    if found:
        return [Problem(f"{path} ({p.field})" if p.field else path, p.message, code=p.code)
                for p in found]
    compiled = compile_condition(rule, scope)
    if compiled.sql_problem is not None:
        return [Problem(path, message("view_filter_not_sql", reason=compiled.sql_problem))]
    return []


def unknown_role(role: str, path: str) -> Problem:
    return Problem(path, message("query_unknown_role", role=role))


def _unknown(spec: EntitySpec, field: str, path: str) -> Problem:
    close = closest_name(field, [*spec.fields, *SYSTEM_FIELDS])
    hint_en = f" (did you mean '{close}'?)" if close else ""
    hint_zh = f"（是否想写“{close}”？）" if close else ""
    return Problem(path, message("view_unknown_column", entity=spec.label, field=field,
                                 hint_en=hint_en, hint_zh=hint_zh))
