"""Running dashboard measures through the one permission layer.

Every query starts from ``authorize(…, "read")``: the records counted are those the reader
may read (``Access.rows`` as SQL in the WHERE clause), and a widget that would group by,
filter on or aggregate a field hidden from the reader is *not available* to them — said
so, with the reason, instead of a number computed from what they may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from loom.engines.expressions import (
    Env,
    NotTranslatable,
    Scope,
    check_condition,
    compile_condition,
    compile_formula,
)
from loom.engines.expressions.scope import ValueType
from loom.engines.query.aggregates import AggregateSql, Source, aggregate_sql, period_clause
from loom.engines.query.periods import Period
from loom.metamodel.entity import SYSTEM_FIELDS
from loom.metamodel.errors import PermissionDenied
from loom.metamodel.i18n import Message, message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import column_resolver, environment, related_source
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import Access, authorize

register_messages({
    "dash_hidden_field": {
        "en": "Not available to you: it uses the field '{field}' of {entity}, which you may "
              "not see",
        "zh-CN": "您无法查看此指标：它用到了{entity}的字段“{field}”，而您无权查看该字段"},
    "dash_entity_denied": {
        "en": "Not available to you: you may not read {entity} records",
        "zh-CN": "您无法查看此指标：您没有查看{entity}记录的权限"},
    "dash_cannot_run": {"en": "This figure cannot be computed: {reason}",
                        "zh-CN": "无法计算此指标：{reason}"},
})


class WidgetUnavailable(Exception):
    """The widget cannot be shown to this reader; ``reason`` says why in their language."""

    def __init__(self, reason: Message) -> None:
        super().__init__(reason.render("en"))
        self.reason = reason


@dataclass
class Measuring:
    """One dashboard request: who reads, when, over which period, with what extra filter.
    Access is asked once per entity and kept for the request."""

    conn: AsyncConnection
    runtime: AppRuntime
    actor: Actor
    now: datetime
    period: Period
    extra_filter: Any = None
    env: Env = field(init=False)
    _access: dict[str, Access | Message] = field(default_factory=dict, init=False)
    filtered: set[str] = field(default_factory=set, init=False)  # entities it narrowed

    def __post_init__(self) -> None:
        self.env = environment(self.runtime, self.actor, self.now)

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    async def access(self, entity: str) -> Access:
        if entity not in self._access:
            try:
                self._access[entity] = await authorize(self.conn, self.actor, self.runtime,
                                                       entity, "read")
            except PermissionDenied:
                label = self.runtime.entity(entity).label
                self._access[entity] = message("dash_entity_denied", entity=label)
        found = self._access[entity]
        if isinstance(found, Message):
            raise WidgetUnavailable(found)
        return found

    def source(self, entity: str) -> Source:
        return Source(self.runtime.tables[entity], column_resolver(self.runtime, entity),
                      Scope.for_entity(self.runtime.doc, entity), self.env, self.dialect,
                      related_source(self.runtime))

    def extra_applies(self, entity: str) -> bool:
        """The reader's extra filter narrows the measures of every entity that has all the
        fields it names, and leaves the others alone (each widget says which it was)."""
        if self.extra_filter is None:
            return False
        scope = Scope.for_entity(self.runtime.doc, entity)
        return not check_condition(self.extra_filter, scope)

    async def scoped(self, entity: str, reads: set[str], rule: Any = None,
                     date_field: str | None = None,
                     period: Period | None = None) -> tuple[Source, ColumnElement[bool] | None]:
        """The entity's source and the WHERE clause every query of it gets: the reader's
        reach, the measure's filter, the period on its date field and the extra filter —
        after checking that none of it reads a field hidden from the reader."""
        access = await self.access(entity)
        source = self.source(entity)
        terms: list[ColumnElement[bool]] = []
        reads = set(reads)
        try:
            if rule not in (None, {}):
                compiled = compile_condition(rule, source.scope)
                reads |= set(compiled.reads)
                terms.append(source.condition(rule))
            if self.extra_applies(entity):
                compiled = compile_condition(self.extra_filter, source.scope)
                reads |= set(compiled.reads)
                terms.append(source.condition(self.extra_filter))
                self.filtered.add(entity)
            if date_field:
                reads.add(date_field)
                info = source.scope.lookup(date_field)
                kind = info.type if info is not None else ValueType.DATE
                clause = period_clause(source.resolve(date_field), kind,
                                       period or self.period, self.env.timezone)
                if clause is not None:
                    terms.append(clause)
        except NotTranslatable as exc:
            raise WidgetUnavailable(message("dash_cannot_run", reason=str(exc))) from None
        self.require_visible(entity, access, reads)
        if access.rows is not None:
            terms.append(access.rows.where(self.runtime, self.env, self.dialect))
        return source, and_(*terms) if terms else None

    def require_visible(self, entity: str, access: Access, reads: set[str]) -> None:
        spec = self.runtime.entity(entity)
        for path in sorted(reads):
            head = path.split(".")[0]
            if path == "*" or (head not in SYSTEM_FIELDS and not access.can_read(head)):
                raise WidgetUnavailable(message("dash_hidden_field", field=head,
                                                entity=spec.label))

    def value_reads(self, entity: str, field_name: str | None,
                    expression: str | None) -> set[str]:
        if expression:
            return set(compile_formula(expression, Scope.for_entity(self.runtime.doc,
                                                                      entity)).reads)
        return {field_name} if field_name else set()

    def aggregate(self, source: Source, name: str, function: str, field_name: str | None,
                  expression: str | None,
                  only: ColumnElement[bool] | None = None) -> AggregateSql:
        try:
            value = source.value(field_name, expression)
            return aggregate_sql(name, function, value, only, self.dialect)
        except NotTranslatable as exc:
            raise WidgetUnavailable(message("dash_cannot_run", reason=str(exc))) from None

    async def single(self, entity: str, function: str, field_name: str | None,
                     expression: str | None, rule: Any, date_field: str | None,
                     period: Period | None = None) -> Any:
        """One aggregate over the reader's records of ``entity``: one row, one scan."""
        reads = self.value_reads(entity, field_name, expression)
        source, where = await self.scoped(entity, reads, rule, date_field, period)
        built = self.aggregate(source, "value", function, field_name, expression)
        query = select(*built.columns).select_from(source.table)
        if where is not None:
            query = query.where(where)
        row = (await self.conn.execute(query)).mappings().one()
        return built.finish(row)
