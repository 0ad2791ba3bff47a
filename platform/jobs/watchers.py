"""Which of a job's changed records something may react to — decided in SQL, so only those
go through the write pipeline and the rest are written set-based.

A changed record is *watched* when, on its new values:

- an update / field-change rule of the entity is triggered by a field the job changed on
  it and its condition holds (conditions are translated to SQL over the staged new values
  and the record's other columns; a condition without an SQL form — one reading
  ``prior`` or ``changed``, say — counts as holding);
- a flow starting on update / field change of the entity would start, by the same test;
- the record has a running instance of a flow that waits for a condition or keeps an SLA
  clock (a save re-checks those);
- or always, when the entity has formula fields (they are recomputed on save) or other
  entities roll its records up (the roll-up hook keeps the parents current).

A record no predicate holds for would have no rule fire in the pipeline either (a rule can
only be set off by the job's change or by another rule that fired first), so taking the
set-based path for it changes nothing but the speed.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import and_, or_, select, true
from sqlalchemy.sql import ColumnElement

from loom.engines.expressions import Compiled, Env, NotTranslatable
from loom.metamodel.fields import FieldType
from loom.metamodel.flows import Wait
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import column_resolver, related_source
from loom.platform.jobs.staging import Staging
from loom.platform.records.rollups import rollups_over
from loom.platform.storage.system_tables import flow_instances

log = logging.getLogger("loom.jobs")
SAVE_OPERATORS = frozenset({"prior", "changed"})


class Watchers:
    """The reactions of one app version to changes of ``entity``'s written fields."""

    def __init__(self, runtime: AppRuntime, entity: str, staging: Staging, env: Env,
                 dialect: str) -> None:
        self.runtime = runtime
        self.entity = entity
        self.staging = staging
        self.env = env
        self.dialect = dialect
        self.reasons: list[str] = []

    def predicate(self) -> ColumnElement[bool] | None:
        """The watched rows: None (nothing watches), ``true()`` (all changed rows) or an
        SQL condition over the staging table, correlated to the entity row."""
        spec = self.runtime.entity(self.entity)
        if any(field.type is FieldType.FORMULA for field in spec.fields.values()):
            self.reasons.append("formula fields")
            return true()
        if rollups_over(self.runtime, self.entity):
            self.reasons.append("roll-ups")
            return true()
        parts = self._rules() + self._flow_starts()
        waiting = self._waiting_flows()
        if waiting is not None:
            parts.append(waiting)
        return or_(*parts) if parts else None

    def _triggered(self, name: str, fields: list[str] | None,
                   condition: Compiled | None) -> ColumnElement[bool] | None:
        written = list(self.staging.writes)
        relevant = [f for f in fields if f in written] if fields else written
        if not relevant:
            return None
        self.reasons.append(name)
        return and_(self.staging.differs(relevant), self._condition(name, condition))

    def _rules(self) -> list[ColumnElement[bool]]:
        found = []
        for rule in self.runtime.rules.on_save(self.entity, "update"):
            trigger = rule.spec.trigger
            fields = trigger.fields if trigger.on == "field_change" else None
            part = self._triggered(f"rule {rule.name}", fields, rule.condition)
            if part is not None:
                found.append(part)
        return found

    def _flow_starts(self) -> list[ColumnElement[bool]]:
        found = []
        for name, flow in self.runtime.flows.items():
            start = flow.spec.start
            if flow.spec.entity != self.entity or start.on not in ("update", "field_change"):
                continue
            fields = start.fields if start.on == "field_change" else None
            part = self._triggered(f"flow {name}", fields, flow.start_condition)
            if part is not None:
                found.append(part)
        return found

    def _waiting_flows(self) -> ColumnElement[bool] | None:
        # only instances of flows that wait for a condition or keep an SLA clock have
        # anything to re-check when their record changes
        rechecking = sorted(name for name, flow in self.runtime.flows.items()
                            if flow.spec.slas or any(isinstance(node, Wait) and node.condition
                                                     is not None
                                                     for node in flow.spec.nodes.values()))
        if not rechecking:
            return None
        self.reasons.append("running flows that wait for conditions")
        return select(flow_instances.c.id).where(
            flow_instances.c.app_id == self.runtime.app_id,
            flow_instances.c.entity == self.entity,
            flow_instances.c.flow.in_(rechecking),
            flow_instances.c.record_id == self.staging.table.c.id,
            flow_instances.c.status == "running").correlate_except(flow_instances).exists()

    def _condition(self, name: str, condition: Compiled | None) -> ColumnElement[bool]:
        if condition is None:
            return true()
        # ``prior`` and ``changed`` read the save's environment: as SQL they would be the
        # constants of no save at all, so such a condition is taken to hold
        reads_save = any(node.op in SAVE_OPERATORS for node in condition.tree.walk())
        if condition.sql_problem is None and not reads_save:
            try:
                return condition.to_sql(self._resolver(), self.env, dialect=self.dialect,
                                        related=related_source(self.runtime))
            except NotTranslatable:
                pass
        log.info("job: a condition has no SQL form; its changed records go through the "
                 "pipeline", extra={"app": self.runtime.slug, "watcher": name})
        return true()

    def _resolver(self) -> Any:
        base = column_resolver(self.runtime, self.entity)
        staging = self.staging

        def resolve(path: str) -> ColumnElement[Any]:
            if path in staging.writes:
                return staging.new(path)
            return base(path)

        return resolve
