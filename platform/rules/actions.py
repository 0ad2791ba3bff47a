"""Carrying out rule actions. Changes to the triggering record itself (set field, tag,
assign) are *local*: during a save they change the record before it is validated; other
actions run after the save, and every record they create or change goes through the write
pipeline. Emails and webhooks go to the outbox in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import Env
from loom.engines.field_values.coercion import to_json
from loom.engines.rules.compiler import CompiledAction, CompiledRule, is_created_ref
from loom.engines.timing import parse_duration
from loom.metamodel.errors import NotFound, ValidationFailed
from loom.metamodel.i18n import localize, message, register_messages
from loom.metamodel.rules import (
    Assign,
    Convert,
    CreateRecord,
    CreateTask,
    Notify,
    RecordTarget,
    SendEmail,
    SetField,
    StartFlow,
    Tag,
    UpdateRelated,
    Webhook,
)
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment, filter_clause
from loom.platform.outbox.notifications import notify
from loom.platform.records.context import WriteBudget
from loom.platform.rules.assignment import choose_assignee
from loom.platform.rules.messages import fill_in
from loom.platform.rules.recipients import Recipients
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import FULL_ACCESS
from loom.platform.tasks.store import add_timer, create_task

LOCAL_ACTIONS = (SetField, Tag, Assign)
# how a trace tells an action that had nobody to address: it did nothing, and why
NO_RECIPIENT = {"status": "skipped", "reason": "no_recipient"}

register_messages({
    "rule_action_failed": {"en": "Rule '{rule}' could not {action}: {detail}",
                           "zh-CN": "规则“{rule}”无法执行{action}：{detail}"},
    "rule_no_match": {"en": "no {entity} record has {field} = {value}",
                      "zh-CN": "没有{field}为 {value} 的{entity}记录"},
    "rule_no_flows": {"en": "flows cannot be started yet", "zh-CN": "暂不能启动流程"},
})


@dataclass
class Run:
    """One rule firing on one record."""

    conn: AsyncConnection
    runtime: AppRuntime
    actor: Actor            # who caused it; actions act as this person via "rule"
    rule: CompiledRule
    record: dict[str, Any]  # the record as saved (or about to be)
    data: dict[str, Any]    # the record plus what expressions read outside it
    env: Env
    now: datetime
    budget: WriteBudget
    key: str                # idempotency base: app, rule, record, version or moment
    outbox: list[dict[str, Any]] = field(default_factory=list)

    @property
    def entity(self) -> str:
        return self.rule.entity

    def about(self) -> dict[str, Any]:
        """The record an outbox item is sent about (its timeline shows the item)."""
        return {"entity": self.entity, "record_id": self.record.get("id")}

    @property
    def as_rule(self) -> Actor:
        return self.actor.via("rule")

    def value(self, action: CompiledAction, name: str) -> Any:
        compiled = action.values.get(name)
        return compiled.evaluate(self.data, self.env) if compiled is not None else None

    def recipients(self) -> Recipients:
        return Recipients(self.conn, self.runtime, self.actor, self.entity, self.data)

    def locale(self) -> str:
        return self.runtime.doc.app.default_locale

    async def texts(self, *templates: Any) -> list[dict[str, str] | None]:
        """The message templates filled in from the record, in every language."""
        return await fill_in(self.conn, self.runtime, self.actor, self.entity, self.data,
                             *templates)


class ActionRunner:
    """Runs the actions of a firing; knows the pipeline to write records through."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.flow_starter: Any = None  # the flow engine plugs in here

    # --- local: the triggering record ---------------------------------------------------

    async def local_changes(self, run: Run, action: CompiledAction,
                            record: dict[str, Any]) -> dict[str, Any]:
        """What a set_field/tag/assign action changes on ``record``."""
        spec = action.spec
        if isinstance(spec, SetField):
            value = run.value(action, spec.field)
            if spec.match and value is not None:
                value = await self._match(run, spec.field, spec.match, value)
            return {spec.field: value}
        if isinstance(spec, Tag):
            current = list(record.get(spec.field) or [])
            tags = [t for t in current if t not in spec.remove]
            tags += [t for t in spec.add if t not in tags]
            return {spec.field: tags}
        if isinstance(spec, Assign):
            target = spec.field or run.runtime.entity(run.entity).owner() or "owner"
            index = run.rule.actions.index(action)
            return {target: await choose_assignee(run, spec, index, target)}
        return {}

    async def _match(self, run: Run, field_name: str, match: str, value: Any) -> int:
        """A lookup given by a unique field of the referenced entity (``code``)."""
        ref = run.runtime.entity(run.entity).fields[field_name].ref or ""
        table = run.runtime.tables[ref]
        found = await run.conn.scalar(select(table.c.id).where(table.c[match] == value)
                                      .limit(1))
        if found is None:
            raise self._failed(run, "set_field", message(
                "rule_no_match", entity=run.runtime.entity(ref).label,
                field=run.runtime.entity(ref).field_label(match), value=value))
        return int(found)

    # --- everything else ------------------------------------------------------------------

    async def run_action(self, run: Run, action: CompiledAction, index: int
                         ) -> dict[str, Any]:
        """Carry out one non-local action; returns what it did, for the trace."""
        spec = action.spec
        if isinstance(spec, CreateRecord):
            created, links = await self._create_targets(run, action, [spec])
            await self._link_back(run, links)
            return {"type": spec.type, "created": created}
        if isinstance(spec, Convert):
            created, links = await self._create_targets(run, action, spec.targets)
            await self._link_back(run, links)
            return {"type": spec.type, "created": created}
        if isinstance(spec, UpdateRelated):
            return {"type": spec.type, "updated": await self._update_related(run, action)}
        if isinstance(spec, Notify):
            ids = await self._user_ids(run, spec.to)
            if not ids:
                return {"type": spec.type, "to": [], **NO_RECIPIENT}
            title, body = await run.texts(spec.title, spec.body)
            await notify(run.conn, workspace_id=run.runtime.workspace_id, user_ids=ids,
                         title=title, body=body, now=run.now, locale=run.locale(),
                         app_id=run.runtime.app_id, entity=run.entity,
                         record_id=run.record.get("id"))
            return {"type": spec.type, "to": ids, "title": localize(title, run.locale())}
        if isinstance(spec, SendEmail):
            return await self._email(run, spec, index)
        if isinstance(spec, Webhook):
            body = ({name: to_json(run.value(action, name)) for name in action.values}
                    if spec.body else
                    {"event": run.rule.spec.trigger.on, "app": run.runtime.slug,
                     "entity": run.entity, "rule": run.rule.name,
                     "record": {k: to_json(v) for k, v in run.record.items()}})
            run.outbox.append({"kind": "webhook", "key": f"{run.key}:{index}", "payload": {
                "url": spec.url, "secret_env": spec.secret_env, "body": body},
                **run.about()})
            return {"type": spec.type, "url": spec.url}
        if isinstance(spec, CreateTask):
            return await self._task(run, spec, index)
        if isinstance(spec, StartFlow):
            if self.flow_starter is None:
                raise self._failed(run, spec.type, message("rule_no_flows"))
            instance = await self.flow_starter(run, spec.flow)
            return {"type": spec.type, "flow": spec.flow, "instance": instance}
        raise ValueError(f"unknown action {spec.type}")

    async def _create_targets(self, run: Run, action: CompiledAction,
                              targets: list[RecordTarget]) -> tuple[dict[str, int],
                                                                    dict[str, int]]:
        created: dict[str, int] = {}
        links: dict[str, int] = {}
        for target in targets:
            values = {}
            for name, raw in target.values.items():
                if is_created_ref(raw):
                    values[name] = created.get(raw["created"])
                else:
                    values[name] = run.value(action, f"{target.entity}.{name}")
            record_id = await self._existing(run, target, values)
            if record_id is None:
                try:
                    record = await self.pipeline.create(run.conn, run.runtime, run.as_rule,
                                                        target.entity, values,
                                                        budget=run.budget)
                except ValidationFailed as exc:
                    raise self._failed(run, target.entity, exc.detail, exc) from None
                record_id = record["id"]
            created[target.name or target.entity] = record_id
            if target.link:
                links[target.link] = record_id
        return created, links

    async def _existing(self, run: Run, target: RecordTarget,
                        values: dict[str, Any]) -> int | None:
        if not target.match:
            return None
        table = run.runtime.tables[target.entity]
        wanted = [table.c[name] == values.get(name) for name in target.match]
        found = await run.conn.scalar(select(table.c.id).where(and_(*wanted))
                                      .order_by(table.c.id).limit(1))
        return int(found) if found is not None else None

    async def _link_back(self, run: Run, links: dict[str, int]) -> None:
        if links and run.record.get("id") is not None:
            saved = await self.pipeline.update(run.conn, run.runtime, run.as_rule, run.entity,
                                               run.record["id"], links, budget=run.budget,
                                               access=FULL_ACCESS)
            run.record.update(saved)

    async def _update_related(self, run: Run, action: CompiledAction) -> list[int]:
        spec = action.spec
        assert isinstance(spec, UpdateRelated)
        values = {name: run.value(action, name) for name in spec.values}
        if spec.lookup:
            target = run.runtime.entity(run.entity).fields[spec.lookup].ref or ""
            ids = [run.record[spec.lookup]] if run.record.get(spec.lookup) else []
        else:
            target = spec.entity or ""
            table = run.runtime.tables[target]
            query = select(table.c.id).where(table.c[spec.via or ""] == run.record.get("id"))
            if spec.condition is not None:
                where = filter_clause(run.runtime, target, spec.condition,
                                      environment(run.runtime, run.actor, run.now),
                                      dialect=run.conn.dialect.name)
                if where is not None:
                    query = query.where(where)
            ids = list((await run.conn.execute(query.order_by(table.c.id))).scalars())
        for record_id in ids:
            try:
                await self.pipeline.update(run.conn, run.runtime, run.as_rule, target,
                                           record_id, values, budget=run.budget,
                                           access=FULL_ACCESS)
            except (ValidationFailed, NotFound) as exc:
                raise self._failed(run, spec.type, exc.detail, exc) from None
        return ids

    async def _user_ids(self, run: Run, recipients: list[Any]) -> list[int]:
        resolver = run.recipients()
        found: list[int] = []
        for recipient in recipients:
            found += await resolver.user_ids(recipient)
        return sorted(set(found))

    async def _email(self, run: Run, spec: SendEmail, index: int) -> dict[str, Any]:
        """One email per language among the recipients: a user reads their own (or
        ``spec.locale`` when the rule fixes it), an address that is no user the app's."""
        resolver = run.recipients()
        to = [a for r in spec.to for a in await resolver.addressees(r)]
        if not to:
            return {"type": spec.type, "to": [], **NO_RECIPIENT}
        cc = [a for r in spec.cc for a in await resolver.addressees(r)]
        subject, body = await run.texts(spec.subject, spec.body)
        letters = _by_language(to, cc, spec.locale or None, run.locale())
        for locale, (to_group, cc_group) in letters.items():
            key = f"{run.key}:{index}" + (f":{locale}" if len(letters) > 1 else "")
            run.outbox.append({"kind": "email", "key": key, "payload": {
                "to": to_group, "cc": cc_group, "subject": localize(subject, locale),
                "text": localize(body, locale)}, **run.about()})
        return {"type": spec.type, "to": sorted({address for address, _ in to}),
                "subject": localize(subject, next(iter(letters)))}

    async def _task(self, run: Run, spec: CreateTask, index: int) -> dict[str, Any]:
        assignees = await run.recipients().user_ids(spec.assignee)
        assignee = assignees[0] if assignees else None
        due = parse_duration(spec.due).after(run.now) if spec.due else None
        title, notes = await run.texts(spec.title, spec.notes)
        workspace, app = run.runtime.workspace_id, run.runtime.app_id
        task_id = await create_task(run.conn, workspace_id=workspace, app_id=app,
                                    entity=run.entity, record_id=run.record.get("id"),
                                    title=title, notes=notes, assignee_id=assignee,
                                    now=run.now, locale=run.locale(), due_at=due,
                                    source_rule=run.rule.name, source_action=index)
        if due is not None and spec.remind_before:
            await add_timer(run.conn, workspace_id=workspace, app_id=app, kind="task_remind",
                            task_id=task_id, due_at=parse_duration(spec.remind_before)
                            .before(due), payload={"to": [assignee] if assignee else []})
        if due is not None:
            escalate_at = parse_duration(spec.escalate_after).after(due) \
                if spec.escalate_after else due
            escalate_to = await run.recipients().user_ids(spec.escalate_to) \
                if spec.escalate_to else []
            await add_timer(run.conn, workspace_id=workspace, app_id=app,
                            kind="task_overdue", task_id=task_id, due_at=escalate_at,
                            payload={"to": sorted(set(escalate_to) | (
                                {assignee} if assignee else set()))})
        return {"type": spec.type, "task": task_id, "assignee": assignee,
                "due_at": to_json(due)}

    def _failed(self, run: Run, action: str, detail: Any,
                cause: ValidationFailed | NotFound | None = None) -> ValidationFailed:
        text = message("rule_action_failed", rule=run.rule.name, action=action, detail=detail)
        problems = list(cause.problems) if cause is not None else []
        return ValidationFailed(text, problems)


def _by_language(to: list[tuple[str, str | None]], cc: list[tuple[str, str | None]],
                 fixed: str | None, default: str) -> dict[str, tuple[list[str], list[str]]]:
    """The letters of one email action: per language, its To and Cc addresses. A Cc in a
    language no To reads is copied on the first letter."""
    def language(saved: str | None) -> str:
        return fixed or saved or default

    groups: dict[str, tuple[set[str], set[str]]] = {}
    for address, saved in to:
        groups.setdefault(language(saved), (set(), set()))[0].add(address)
    first = next(iter(groups))
    for address, saved in cc:
        groups.get(language(saved), groups[first])[1].add(address)
    return {locale: (sorted(to_set), sorted(cc_set - to_set))
            for locale, (to_set, cc_set) in groups.items()}
