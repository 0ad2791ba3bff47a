"""Flow steps per second with persistence: Loom's flow engine on SQLite and PostgreSQL
against SpiffWorkflow running the same process as BPMN, measured in the same run.

The process (the same graph in both engines, eleven nodes)::

    start → manager (user task) → by_amount (exclusive: amount > 100,000 → director,
    else to_sign) → director (user task) → to_sign (exclusive merge) → split (parallel)
    → legal + finance (user tasks) → both (join) → mark (action / script task: status =
    "approved") → approved (end)

The merge ``to_sign`` is there because BPMN needs it (a parallel gateway with two incoming
flows would wait for both); Loom's flow has it too, so both graphs are the same.

**A step** is one node of that graph an instance passes or activates: the start, each user
task (once, however many people it went to), each gateway and join, the action node and the
end. An instance under the threshold passes 10 nodes, one over it 11 (the director's
approval); instances alternate, so N instances pass 10.5 N steps. SpiffWorkflow's own
bookkeeping tasks (``Root``, ``Start``, ``End``, ``<process>.EndJoin``) are not steps; its
completed tasks of the BPMN nodes are counted and must equal the graph's count.

**A command** is what a person does: start the flow on a record, or approve one task —
1 + 3 commands an instance (manager, legal, finance), 1 + 4 over the threshold.

* Loom: each command is one ``services.database.write()`` transaction running what the
  API's route runs — the app's runtime, then ``services.flows.start``; or the app entered
  as the assignee and ``inbox.actions.act_on_task(…, "approve")`` (the task's instance
  locked, then ``services.flows.act``). Each assignee acts as themselves; finding their
  open task (the inbox) is a read outside the timing. The SQL statements of each command
  are counted (a ``before_cursor_execute`` listener) and reported per command.
* SpiffWorkflow (in memory): start = a new ``BpmnWorkflow`` with the record's data and
  ``do_engine_steps()``; approve = the ready user task's ``run()`` and ``do_engine_steps()``.
  Its state is persisted with ``BpmnWorkflowSerializer.serialize_json`` (kept in a dict):
  *per command* (after each command — the points at which Loom commits), *per node* (also
  after every BPMN node the engine runs) and *round trip* (restored with
  ``deserialize_json`` before each command, serialized after — a stateless server). And
  *in the database*: per command, with the JSON written to a table of the same scratch
  database (an INSERT at the start, an UPDATE after each command, one write transaction
  each) — what a process engine keeping its state as one document costs there.

    python -m bench flows          (needs `pip install -e ".[bench]"` and PostgreSQL)

Settings (environment):
    LOOM_BENCH_FLOW_INSTANCES   instances per round, default 200
    LOOM_BENCH_FLOW_ROUNDS      rounds (the best counts), default 3
    LOOM_BENCH_FLOW_DATABASES   "sqlite", "postgresql" or both (default)
    LOOM_BENCH_DATABASE_URL     the PostgreSQL server; a scratch database is created on it
                                and dropped (default postgresql://postgres@127.0.0.1:5432/test)
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    delete,
    event,
    insert,
    select,
    update,
)

from bench.scratch import ADMIN, scratch_services
from loom.platform.inbox.actions import TaskCommand, act_on_task
from loom.platform.security.actors import Actor
from loom.platform.security.users import NewUser, actor_from_row, create_user
from loom.platform.services import Services
from loom.platform.storage.database import Database
from loom.platform.storage.system_tables import (
    flow_activations,
    flow_instances,
    role_members,
    tasks,
    users,
)

INSTANCES = int(os.environ.get("LOOM_BENCH_FLOW_INSTANCES", "200"))
ROUNDS = int(os.environ.get("LOOM_BENCH_FLOW_ROUNDS", "3"))
DATABASES = [name.strip() for name in os.environ.get(
    "LOOM_BENCH_FLOW_DATABASES", "sqlite,postgresql").split(",") if name.strip()]
POSTGRES_URL = os.environ.get("LOOM_BENCH_DATABASE_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
WARMUP = 10         # instances run before the rounds (their SQL statements are counted)
THRESHOLD = 100_000
SLUG = "deals"
FLOW = "approval"


def amount_of(index: int) -> int:
    """Instances alternate under and over the director's threshold."""
    return THRESHOLD * 3 // 2 if index % 2 else THRESHOLD // 2


USER_TASKS = ("manager", "director", "legal", "finance")


def path_of(amount: int) -> tuple[str, ...]:
    """The nodes an instance of this amount passes: its steps."""
    director = ("director",) if amount > THRESHOLD else ()
    return ("start", "manager", "by_amount", *director, "to_sign", "split", "legal",
            "finance", "both", "mark", "approved")


# --- the flow as Loom metadata -------------------------------------------------------------

def _task(label: str, assignee: dict[str, Any]) -> dict[str, Any]:
    return {"type": "user_task", "label": {"zh-CN": label, "en": label},
            "assignees": [assignee]}


def _role(name: str) -> dict[str, str]:
    return {"kind": "role", "role": name}


APP: dict[str, Any] = {
    "app": {"label": {"zh-CN": "合同", "en": "Contracts"}},
    "entities": {"contract": {"label": {"zh-CN": "合同", "en": "Contract"}, "fields": {
        "title": {"type": "text"}, "amount": {"type": "currency"}, "owner": {"type": "user"},
        "status": {"type": "select", "options": [
            {"value": "draft"}, {"value": "in_approval"}, {"value": "approved"},
            {"value": "rejected"}]}}}},
    "flows": {FLOW: {
        "entity": "contract",
        "start": {"on": "manual"},
        "nodes": {
            "manager": _task("Manager", {"kind": "manager", "of": "initiator"}),
            "by_amount": {"type": "gateway", "kind": "exclusive"},
            "director": _task("Director", _role("sales_director")),
            "to_sign": {"type": "gateway", "kind": "exclusive"},
            "split": {"type": "gateway", "kind": "parallel"},
            "legal": _task("Legal", _role("legal")),
            "finance": _task("Finance", _role("finance")),
            "both": {"type": "join"},
            "mark": {"type": "action", "actions": [
                {"type": "set_field", "field": "status", "value": "approved"}]},
            "approved": {"type": "end", "outcome": "approved"}},
        "edges": [
            {"from": "start", "to": "manager"},
            {"from": "manager", "to": "by_amount", "outcome": "approve"},
            {"from": "by_amount", "to": "director",
             "condition": {">": [{"var": "amount"}, THRESHOLD]}},
            {"from": "by_amount", "to": "to_sign", "default": True},
            {"from": "director", "to": "to_sign", "outcome": "approve"},
            {"from": "to_sign", "to": "split"},
            {"from": "split", "to": "legal"}, {"from": "split", "to": "finance"},
            {"from": "legal", "to": "both", "outcome": "approve"},
            {"from": "finance", "to": "both", "outcome": "approve"},
            {"from": "both", "to": "mark"}, {"from": "mark", "to": "approved"}]}},
}

# --- the same process as BPMN --------------------------------------------------------------

BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="contracts"
    targetNamespace="http://loom.bench/flows">
  <bpmn:process id="{FLOW}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="manager" name="Manager"/>
    <bpmn:exclusiveGateway id="by_amount" default="small"/>
    <bpmn:userTask id="director" name="Director"/>
    <bpmn:exclusiveGateway id="to_sign"/>
    <bpmn:parallelGateway id="split"/>
    <bpmn:userTask id="legal" name="Legal"/>
    <bpmn:userTask id="finance" name="Finance"/>
    <bpmn:parallelGateway id="both"/>
    <bpmn:scriptTask id="mark"><bpmn:script>status = "approved"</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="approved"/>
    <bpmn:sequenceFlow id="to_manager" sourceRef="start" targetRef="manager"/>
    <bpmn:sequenceFlow id="decided" sourceRef="manager" targetRef="by_amount"/>
    <bpmn:sequenceFlow id="big" sourceRef="by_amount" targetRef="director">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">amount &gt; {THRESHOLD}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="by_amount" targetRef="to_sign"/>
    <bpmn:sequenceFlow id="directed" sourceRef="director" targetRef="to_sign"/>
    <bpmn:sequenceFlow id="to_split" sourceRef="to_sign" targetRef="split"/>
    <bpmn:sequenceFlow id="to_legal" sourceRef="split" targetRef="legal"/>
    <bpmn:sequenceFlow id="to_finance" sourceRef="split" targetRef="finance"/>
    <bpmn:sequenceFlow id="legal_done" sourceRef="legal" targetRef="both"/>
    <bpmn:sequenceFlow id="finance_done" sourceRef="finance" targetRef="both"/>
    <bpmn:sequenceFlow id="to_mark" sourceRef="both" targetRef="mark"/>
    <bpmn:sequenceFlow id="to_end" sourceRef="mark" targetRef="approved"/>
  </bpmn:process>
</bpmn:definitions>
"""  # noqa: E501


# --- measurements --------------------------------------------------------------------------

@dataclass
class Round:
    """One engine's pass over a set of instances: seconds per command, by its node."""

    steps: int = 0
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    @contextmanager
    def command(self, node: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[node].append(time.perf_counter() - started)

    @property
    def total(self) -> float:
        return sum(sum(times) for times in self.seconds.values())

    @property
    def commands(self) -> int:
        return sum(len(times) for times in self.seconds.values())

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.total


def best(rounds: list[Round]) -> Round:
    return max(rounds, key=lambda r: r.steps_per_second)


@dataclass
class Statements:
    """SQL statements run while installed, by the command (its node) that ran them."""

    node: str = ""
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    commands: Counter[str] = field(default_factory=Counter)

    @staticmethod
    def kind(statement: str) -> str:
        sql = " ".join(statement.split())
        verb = sql.split(" ", 1)[0].upper()
        target = re.search(r"\b(?:FROM|INTO|UPDATE)\s+([\w.\"]+)", sql, re.IGNORECASE)
        name = " " + target.group(1).replace('"', "").split(".")[-1] if target else ""
        return f"{verb}{name}"

    @contextmanager
    def command(self, node: str) -> Iterator[None]:
        self.node = node
        self.commands[node] += 1
        try:
            yield
        finally:
            self.node = ""

    def per_command(self, node: str) -> float:
        return sum(self.counts[node].values()) / max(self.commands[node], 1)


@asynccontextmanager
async def counting(services: Services) -> AsyncIterator[Statements]:
    engine = services.database.engine.sync_engine
    found = Statements()

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if found.node:
            found.counts[found.node][found.kind(statement)] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)


# --- Loom ----------------------------------------------------------------------------------

@dataclass
class Office:
    """The people of the app: the initiator (a rep, whose manager approves first) and one
    person for each of the other tasks."""

    services: Services
    people: dict[int, Actor] = field(default_factory=dict)
    rep: Actor | None = None

    async def setup(self) -> None:
        services = self.services
        async with services.database.write() as conn:
            admin = actor_from_row((await conn.execute(select(users).where(
                users.c.email == ADMIN))).mappings().one())
            made: dict[str, Actor] = {}
            for name, manager in (("manager", None), ("rep", "manager"), ("director", None),
                                  ("legal", None), ("finance", None)):
                row = await create_user(conn, admin.workspace_id, NewUser(
                    email=f"{name}@example.com", name=name,
                    manager=f"{manager}@example.com" if manager else None), services.clock)
                made[name] = Actor(row["id"], row["email"], admin.workspace_id, name=name)
                self.people[row["id"]] = made[name]
            await services.apps.create(conn, admin, SLUG, APP)
            runtime = await services.apps.runtime(conn, admin, SLUG)
            await conn.execute(insert(role_members), [
                {"app_id": runtime.app_id, "role": role, "user_id": made[who].user_id}
                for role, who in (("sales_director", "director"), ("legal", "legal"),
                                  ("finance", "finance"))])
            # the rep may write contracts (record permissions for roles come with the
            # security model) and initiates every flow
            self.rep = Actor(made["rep"].user_id, made["rep"].email, admin.workspace_id,
                             is_admin=True, name="rep")

    async def contracts(self, amounts: list[int]) -> list[int]:
        """Records to start the flow on (made before the timing)."""
        assert self.rep is not None
        services, made = self.services, []
        async with services.database.write() as conn:
            runtime = await services.apps.runtime(conn, self.rep, SLUG)
            for index, amount in enumerate(amounts):
                record = await services.pipeline.create(
                    conn, runtime, self.rep.via("system"), "contract",
                    {"title": f"服务器采购 {index}", "amount": amount,
                     "owner": self.rep.user_id, "status": "draft"})
                made.append(int(record["id"]))
        return made


async def loom_start(services: Services, actor: Actor, record_id: int) -> None:
    """``POST /api/apps/{app}/flow-instances``, without HTTP."""
    async with services.database.write() as conn:
        runtime = await services.apps.runtime(conn, actor, SLUG)
        await services.flows.start(conn, runtime, actor, FLOW, record_id, services.clock.now())


async def loom_approve(services: Services, actor: Actor, task_id: int) -> None:
    """``POST /api/apps/{app}/tasks/{id}/actions {"action": "approve"}``, without HTTP:
    what the route runs."""
    async with services.database.write() as conn:
        runtime, member = await services.apps.enter(conn, actor, SLUG)
        await act_on_task(conn, runtime, member, task_id, TaskCommand(action="approve"),
                          now=services.clock.now(), flows=services.flows,
                          runtime_at=services.apps.runtime_at, locale="en")


async def inbox(services: Services, record_id: int) -> list[tuple[int, int, str]]:
    """The open tasks of a record's flow: (task, assignee, node), oldest first."""
    async with services.database.read() as conn:
        rows = await conn.execute(
            select(tasks.c.id, tasks.c.assignee_id, flow_activations.c.node)
            .join(flow_activations, flow_activations.c.id == tasks.c.activation_id)
            .where(tasks.c.record_id == record_id, tasks.c.status == "open")
            .order_by(tasks.c.id))
        return [(int(r.id), int(r.assignee_id), str(r.node)) for r in rows]


async def loom_round(office: Office, records: list[int], amounts: list[int],
                     statements: Statements | None = None) -> Round:
    """Each record's flow from its start to its end, one instance after the other."""
    services, rep, done = office.services, office.rep, Round()
    assert rep is not None
    watch = statements or Statements()
    for record_id, amount in zip(records, amounts, strict=True):
        with done.command("start"), watch.command("start"):
            await loom_start(services, rep, record_id)
        handled = []
        while waiting := await inbox(services, record_id):
            for task_id, assignee, node in waiting:
                with done.command(node), watch.command(node):
                    await loom_approve(services, office.people[assignee], task_id)
                handled.append(node)
        assert handled == [n for n in path_of(amount) if n in USER_TASKS], handled
        done.steps += len(path_of(amount))
    await check_loom(services, records)
    return done


async def check_loom(services: Services, records: list[int]) -> None:
    """Every instance ended approved and its action node set the record's status."""
    async with services.database.read() as conn:
        ended = (await conn.execute(select(flow_instances.c.status, flow_instances.c.outcome)
                                    .where(flow_instances.c.record_id.in_(records)))).all()
    assert len(ended) == len(records), ended
    assert {tuple(row) for row in ended} == {("completed", "approved")}, set(ended)
    async with services.database.read() as conn:
        runtime = next(r for r in await services.apps.published_runtimes(conn)
                       if r.slug == SLUG)
        table = runtime.tables["contract"]
        statuses = set((await conn.execute(select(table.c.status).where(
            table.c.id.in_(records)))).scalars())
    assert statuses == {"approved"}, statuses


# --- SpiffWorkflow -------------------------------------------------------------------------

# a table for SpiffWorkflow's JSON, in the scratch database ("in the database")
SPIFF_STATES = Table("bench_spiff_states", MetaData(),
                     Column("id", Integer, primary_key=True, autoincrement=False),
                     Column("state", Text, nullable=False))


class Spiff:
    """The BPMN process parsed once; instances run in memory, persisted as JSON."""

    def __init__(self) -> None:
        from lxml import etree
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

        parser = BpmnParser()
        parser.add_bpmn_xml(etree.fromstring(BPMN.encode()), filename=f"{FLOW}.bpmn")
        self.spec = parser.get_spec(FLOW)
        self.serializer = BpmnWorkflowSerializer()
        self.saved: dict[int, str] = {}  # the store: instance → its latest JSON

    async def run(self, amounts: list[int], mode: str,
                  database: Database | None = None) -> Round:
        """``mode``: serialize "per command", "per node" (also after each BPMN node the
        engine runs), "round trip" (restore before each command, serialize after) or
        "in the database" (per command, and the JSON written to ``database``: an INSERT at
        the start, an UPDATE after each command, one transaction each)."""
        done, self.saved = Round(), {}
        if mode == "in the database":
            assert database is not None
            async with database.write() as conn:
                await conn.run_sync(SPIFF_STATES.metadata.create_all)
                await conn.execute(delete(SPIFF_STATES))
        for index, amount in enumerate(amounts):
            passed = await self._instance(index, amount, mode, done, database)
            assert sorted(passed) == sorted(path_of(amount)), (passed, path_of(amount))
            done.steps += len(passed)
        return done

    async def _instance(self, index: int, amount: int, mode: str, done: Round,
                        database: Database | None) -> list[str]:
        """Run one instance to its end; the BPMN nodes it passed."""
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        async def save(workflow: Any) -> None:
            state = self.serializer.serialize_json(workflow)
            if database is not None and mode == "in the database":
                statement = (
                    update(SPIFF_STATES).where(SPIFF_STATES.c.id == index).values(state=state)
                    if index in self.saved else insert(SPIFF_STATES).values(id=index,
                                                                             state=state))
                async with database.write() as conn:
                    await conn.execute(statement)
            self.saved[index] = state

        def after_node(task: Any) -> None:
            if mode == "per node" and task.task_spec.bpmn_id is not None:
                self.saved[index] = self.serializer.serialize_json(task.workflow)

        with done.command("start"):
            workflow = BpmnWorkflow(self.spec)
            start = workflow.get_next_task(state=TaskState.READY)
            assert start is not None
            start.data.update(title=f"服务器采购 {index}", amount=amount, status="draft")
            workflow.do_engine_steps(did_complete_task=after_node)
            await save(workflow)
        while ready := workflow.get_tasks(state=TaskState.READY, manual=True):
            for waiting in ready:
                with done.command(waiting.task_spec.bpmn_id):
                    task = waiting
                    if mode == "round trip":
                        workflow = self.serializer.deserialize_json(self.saved[index])
                        task = workflow.get_task_from_id(waiting.id)
                    task.data["decision"] = "approve"
                    task.run()
                    after_node(task)
                    workflow.do_engine_steps(did_complete_task=after_node)
                    await save(workflow)
        assert workflow.is_completed() and workflow.data["status"] == "approved"
        return [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
                if t.task_spec.bpmn_id is not None]


# --- a scratch database and the services on it ---------------------------------------------

@asynccontextmanager
async def database_for(kind: str) -> AsyncIterator[tuple[Services, str]]:
    if kind not in ("sqlite", "postgresql"):
        raise ValueError(f"unknown database {kind!r} (sqlite or postgresql)")
    async with scratch_services(POSTGRES_URL if kind == "postgresql" else None) as found:
        yield found


# --- the report ----------------------------------------------------------------------------

def line(label: str, done: Round) -> str:
    return (f"  {label:50} {done.steps_per_second:5.0f} steps/s  "
            f"{done.commands / done.total:6.0f} commands/s  "
            f"{done.total / done.commands * 1000:6.2f} ms/command")


def per_node(done: Round, statements: Statements | None = None) -> str:
    parts = []
    for node, times in done.seconds.items():
        sql = f" ({statements.per_command(node):.0f} SQL)" if statements else ""
        parts.append(f"{node} {statistics.fmean(times) * 1000:.2f} ms{sql}")
    return "      mean per command: " + ", ".join(parts)


def heaviest(statements: Statements) -> str:
    node = max(statements.commands, key=statements.per_command)
    calls = statements.commands[node]
    rows = [f"{count / calls:.0f} {name}" for name, count in
            statements.counts[node].most_common()]
    return f"      SQL statements of one '{node}' command: " + ", ".join(rows)


MODES = {  # SpiffWorkflow's ways of persisting, as they are reported
    "per command": "JSON per command",
    "per node": "JSON per node",
    "round trip": "JSON restored + saved per command",
    "in the database": "JSON per command, written to the DB",
}


async def bench(kind: str, amounts: list[int], spiff: Spiff) -> None:
    """Loom on one database and SpiffWorkflow, a round of each in turn (the best counts)."""
    async with database_for(kind) as (services, label):
        office = Office(services)
        await office.setup()
        warmup = [amount_of(i) for i in range(WARMUP)]
        records = await office.contracts(warmup + amounts * ROUNDS)
        async with counting(services) as statements:
            await loom_round(office, records[:WARMUP], warmup, statements)
        loom: list[Round] = []
        baselines: dict[str, list[Round]] = {mode: [] for mode in MODES}
        for number in range(ROUNDS):
            for mode in MODES:
                baselines[mode].append(await spiff.run(amounts, mode, services.database))
            start = WARMUP + number * len(amounts)
            loom.append(await loom_round(office, records[start:start + len(amounts)],
                                         amounts))
    done, spiffs = best(loom), {mode: best(rounds) for mode, rounds in baselines.items()}
    print(f"{label}:")
    print(line("Loom, one transaction per command", done))
    print(per_node(done, statements))
    total = sum(sum(counts.values()) for counts in statements.counts.values())
    print(f"      SQL statements per command: {total / sum(statements.commands.values()):.1f}"
          f" on average over {WARMUP} instances")
    print(heaviest(statements))
    for mode, baseline in spiffs.items():
        print(line(f"SpiffWorkflow, {MODES[mode]}", baseline))
    print(per_node(spiffs["per command"]))
    ratios = ", ".join(f"{done.steps_per_second / spiffs[mode].steps_per_second:.2f}x "
                       f"({mode})" for mode in MODES)
    print(f"  Loom's steps/s against SpiffWorkflow's: {ratios}")


async def run() -> None:
    amounts = [amount_of(i) for i in range(INSTANCES)]
    steps = sum(len(path_of(a)) for a in amounts)
    commands = sum(1 + sum(n in USER_TASKS for n in path_of(a)) for a in amounts)
    print("load average (1, 5, 15 min) at the start: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    spiff = Spiff()
    await spiff.run([amount_of(i) for i in range(WARMUP)], "per command")  # warm-up
    print(f"{INSTANCES} instances a round: {steps} steps ({steps / INSTANCES:.1f} an "
          f"instance), {commands} commands; best of {ROUNDS} rounds after {WARMUP} "
          f"warm-up instances. SpiffWorkflow {version('SpiffWorkflow')} in memory, "
          f"serialize_json ({len(next(iter(spiff.saved.values()))):,} bytes at the end)")
    for kind in DATABASES:
        await bench(kind, amounts, spiff)
    print("load average (1, 5, 15 min) at the end: "
          + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
