"""PostgreSQL restarted (``pg_ctl restart -m fast``) while clients keep creating expenses
and approving them through a live ``loom serve``, on a private cluster on loopback: a
request during the outage fails cleanly (503, problem+json, ``Retry-After``), the server's
pool recovers by itself (a run of requests afterwards all succeed), every acknowledged
write is there, and nothing is half applied (each expense with its audit row and its
approval flow; each approved task with its flow completed and its expense approved).
Bounded in time."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fixture_kit import ADMIN_EMAIL, ADMIN_PASSWORD
from pg_cluster import Cluster, loom_database, private_primary
from server_kit import ServerProcess, start_loom

CLIENTS = 6
APP = "/api/apps/expenses"
DOC: dict[str, Any] = {
    "app": {"label": {"en": "Expenses"}},
    "entities": {"expense": {"label": {"en": "Expense"}, "fields": {
        "title": {"type": "text"}, "amount": {"type": "currency"},
        "status": {"type": "select", "options": [{"value": "submitted"},
                                                  {"value": "approved"}]}}}},
    "flows": {"approval": {
        "entity": "expense", "start": {"on": "create"},
        "nodes": {"review": {"type": "user_task", "label": {"en": "Review"},
                             "assignees": [{"kind": "initiator"}]},
                  "mark": {"type": "action", "actions": [
                      {"type": "set_field", "field": "status", "value": "approved"}]},
                  "approved": {"type": "end", "outcome": "approved"}},
        "edges": [{"from": "start", "to": "review"},
                  {"from": "review", "to": "mark", "outcome": "approve"},
                  {"from": "mark", "to": "approved"}]}},
}


@dataclass
class Load:
    """What the clients saw: acknowledged creates and approvals, and every answer."""

    created: set[int] = field(default_factory=set)
    approved: set[int] = field(default_factory=set)  # expense ids whose task was approved
    statuses: Counter[int] = field(default_factory=Counter)
    refusals: list[httpx.Response] = field(default_factory=list)

    def answered(self, response: httpx.Response) -> bool:
        """Note the answer; True when it is a success."""
        self.statuses[response.status_code] += 1
        if response.status_code >= 300:
            self.refusals.append(response)
        return response.status_code < 300


@pytest.fixture
def cluster_and_server(tmp_path: Path) -> Iterator[tuple[Cluster, ServerProcess]]:
    with private_primary() as primary:
        url = asyncio.run(loom_database(primary))
        server = start_loom(url, tmp_path / "data",
                            extra_env={"LOOM_READY_NEEDS_WORKER": "false",
                                       "LOOM_BUSY_TIMEOUT_MS": "2000"})
        try:
            yield primary, server
        finally:
            server.stop()


async def expense_round(client: httpx.AsyncClient, load: Load, number: int) -> None:
    """Create an expense, then approve the task its flow gives its creator."""
    created = await client.post(f"{APP}/records/expense", json={
        "title": f"差旅报销 {number}", "amount": "88.00", "status": "submitted"})
    if not load.answered(created):
        return
    expense = created.json()["id"]
    load.created.add(expense)
    listed = await client.get(f"{APP}/tasks", params={"record": expense, "entity": "expense",
                                                     "status": "open"})
    if not load.answered(listed):
        return
    [task] = listed.json()["items"]
    done = await client.post(f"{APP}/tasks/{task['id']}/actions", json={"action": "approve"})
    if load.answered(done):
        load.approved.add(expense)


async def keep_going(client: httpx.AsyncClient, load: Load, worker: int,
                     stop: asyncio.Event) -> None:
    number = 0
    while not stop.is_set():
        try:
            await expense_round(client, load, worker * 100_000 + number)
        except httpx.TransportError as exc:  # the server itself must stay up
            raise AssertionError(f"the server dropped a request: {exc!r}") from exc
        number += 1


async def approvals_reach(load: Load, count: int) -> None:
    while True:
        if len(load.approved) >= count:
            return
        await asyncio.sleep(0.05)


async def database_state(primary: Cluster) -> dict[str, Any]:
    conn = await asyncpg.connect(host="127.0.0.1", port=primary.port, user="postgres",
                                 database="loom")
    try:
        return {
            "expenses": {row["id"]: row["status"] for row in await conn.fetch(
                "SELECT id, status FROM ws_default.expenses__expense")},
            "audited": {row["record_id"] for row in await conn.fetch(
                "SELECT record_id FROM record_audit WHERE entity = 'expense' "
                "AND action = 'create'")},
            "flows": {row["record_id"]: (row["status"], row["outcome"]) for row in
                      await conn.fetch("SELECT record_id, status, outcome FROM flow_instances "
                                       "WHERE entity = 'expense'")},
            "tasks": {row["record_id"]: (row["status"], row["outcome"]) for row in
                      await conn.fetch("SELECT record_id, status, outcome FROM tasks "
                                       "WHERE entity = 'expense'")},
            "rows": {  # one flow and one task per expense, none twice
                "flows": await conn.fetchval("SELECT count(*) FROM flow_instances "
                                             "WHERE entity = 'expense'"),
                "tasks": await conn.fetchval("SELECT count(*) FROM tasks "
                                             "WHERE entity = 'expense'")},
        }
    finally:
        await conn.close()


async def test_a_postgres_restart_under_load_loses_no_acknowledged_write(
        cluster_and_server: tuple[Cluster, ServerProcess]) -> None:
    primary, server = cluster_and_server
    load, stop = Load(), asyncio.Event()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client, \
            asyncio.timeout(240):
        token = await client.post("/api/auth/token", json={"email": ADMIN_EMAIL,
                                                           "password": ADMIN_PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        created = await client.post("/api/apps", json={"slug": "expenses", "metadata": DOC})
        assert created.status_code == 201, created.text

        clients = [asyncio.create_task(keep_going(client, load, worker, stop))
                   for worker in range(CLIENTS)]
        try:
            await approvals_reach(load, 10)  # the load under way
            await asyncio.to_thread(primary.restart, "fast")
            await approvals_reach(load, len(load.approved) + 10)  # and going on afterwards
        finally:
            stop.set()
            await asyncio.gather(*clients)

        # the pool recovered by itself: no stale connection fails a request any more
        after = Load()
        for number in range(20):
            await expense_round(client, after, 900_000 + number)
        assert after.statuses == Counter({201: 20, 200: 40}), after.refusals[:1]

    # during the outage: only clean refusals, each saying when to try again
    assert set(load.statuses) <= {200, 201, 503}, [
        (r.status_code, r.text[:300]) for r in load.refusals if r.status_code != 503][:3]
    assert load.statuses[503] >= 1, load.statuses  # the restart was felt
    for refused in load.refusals:
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["status"] == 503

    # every acknowledged write is there; nothing half applied
    state = await database_state(primary)
    load.created |= after.created
    load.approved |= after.approved
    assert load.created <= set(state["expenses"])
    assert set(state["audited"]) == set(state["expenses"])
    assert set(state["flows"]) == set(state["expenses"]) == set(state["tasks"])
    assert state["rows"] == {"flows": len(state["expenses"]), "tasks": len(state["expenses"])}
    for expense, status in state["expenses"].items():
        flow, task = state["flows"][expense], state["tasks"][expense]
        if task == ("done", "approve"):
            assert (status, flow) == ("approved", ("completed", "approved")), expense
        else:
            assert (status, flow, task) == ("submitted", ("running", None), ("open", None))
    for expense in load.approved:
        assert state["tasks"][expense] == ("done", "approve"), expense
