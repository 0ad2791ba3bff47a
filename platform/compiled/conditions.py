"""Conditions against the compiled app: what they see of the world (``environment``), and
how a field path, a related aggregate and a whole filter become SQL. Lists, permissions,
rules, dashboards and jobs all compile their conditions here."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.sql import ColumnElement

from loom.engines.expressions import (
    BeyondColumn,
    Env,
    NotTranslatable,
    Scope,
    check_condition,
    compile_condition,
)
from loom.engines.expressions.sql import BIGINT_MAX
from loom.metamodel.entity import SYSTEM_FIELDS
from loom.metamodel.errors import BadRequest, Problem, ValidationFailed
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import LOCALES, localize, message, register_messages
from loom.platform.compiled.app import AppRuntime

register_messages({
    "filter_not_sql": {
        "en": "This filter cannot run in the database: {reason}",
        "zh-CN": "该筛选条件无法在数据库中执行：{reason}",
    },
    "filter_invalid": {"en": "The filter has problems", "zh-CN": "筛选条件有误"},
    "filter_beyond_field": {
        "en": "{label}: the filter compares it with {value}, beyond what the field can hold "
              "(from -{max} to {max})",
        "zh-CN": "{label}：筛选条件中的 {value} 超出该字段可容纳的范围（-{max} 到 {max}）",
    },
})


class Person(Protocol):
    """Who a condition sees as ``user`` (a security Actor)."""

    @property
    def user_id(self) -> int | None: ...
    @property
    def email(self) -> str: ...
    @property
    def roles(self) -> Collection[str]: ...
    @property
    def department_id(self) -> int | None: ...


class FieldGuard(Protocol):
    """What a filter asks of the reader's access (a security Access): may it read these?"""

    def require_readable(self, runtime: AppRuntime, entity: str, fields: list[str]) -> None: ...


def environment(runtime: AppRuntime, actor: Person, now: datetime) -> Env:
    """What conditions see of the world: the clock, the app's time zone, the user."""
    zone = ZoneInfo(runtime.doc.app.timezone)
    return Env(now=now, today=now.astimezone(zone).date(), timezone=zone,
               user={"id": actor.user_id, "email": actor.email, "roles": sorted(actor.roles),
                     "department": actor.department_id})


def column_resolver(runtime: AppRuntime, entity: str) -> Any:
    """Map a field path of a condition to SQL: a column, or through a lookup
    (``customer.region``) a correlated subquery on the referenced table."""
    table = runtime.tables[entity]
    spec = runtime.entity(entity)

    def resolve(path: str) -> ColumnElement[Any]:
        head, _, rest = path.partition(".")
        if not rest:
            if head in table.c and (head in spec.stored_fields() or head in SYSTEM_FIELDS):
                return table.c[head]
            raise NotTranslatable(f"'{path}' is not a stored field")
        field_spec = spec.fields.get(head)
        if field_spec is None or field_spec.type is not FieldType.LOOKUP or not field_spec.ref:
            raise NotTranslatable(f"'{path}' does not go through a lookup")
        target = runtime.tables[field_spec.ref]
        inner = column_resolver(runtime, field_spec.ref)(rest)
        return select(inner).where(target.c.id == table.c[head]).scalar_subquery()

    return resolve


def related_source(runtime: AppRuntime) -> Any:
    """For ``related`` aggregates: another entity's table and its column resolver."""
    def source(entity: str) -> tuple[Any, Any]:
        runtime.entity(entity)
        return runtime.tables[entity], column_resolver(runtime, entity)

    return source


def filter_clause(runtime: AppRuntime, entity: str, rule: Any, env: Env, *,
                  dialect: str | None = None,
                  access: FieldGuard | None = None) -> ColumnElement[bool] | None:
    """A JSON Logic filter as a WHERE clause; refused (400) when it has no SQL form, and
    when it reads a field the reader may not see (a filter would reveal its values)."""
    if rule is None or rule == {} or rule is True:
        return None
    scope = Scope.for_entity(runtime.doc, entity)
    problems = check_condition(rule, scope)
    if problems:
        raise BadRequest(message("filter_invalid"), problems)
    try:
        compiled = compile_condition(rule, scope)
        if access is not None:
            access.require_readable(runtime, entity, sorted(compiled.reads))
        return compiled.to_sql(column_resolver(runtime, entity), env, dialect=dialect,
                               related=related_source(runtime))
    except BeyondColumn as exc:
        raise ValidationFailed(message("filter_invalid"), [Problem(exc.path, message(
            "filter_beyond_field", label=_path_label(runtime, entity, exc.path),
            value=str(exc.value), max=BIGINT_MAX), code="out_of_range")]) from None
    except NotTranslatable as exc:
        raise BadRequest(message("filter_not_sql", reason=str(exc))) from None


def _path_label(runtime: AppRuntime, entity: str, path: str) -> Any:
    head, _, rest = path.partition(".")
    spec = runtime.entity(entity)
    if head not in spec.fields:
        return path
    field_spec = spec.fields[head]
    if not rest or not field_spec.ref:
        return spec.field_label(head)
    return {locale: localize(spec.field_label(head), locale) + "." + localize(
        _path_label(runtime, field_spec.ref, rest), locale) for locale in LOCALES}
