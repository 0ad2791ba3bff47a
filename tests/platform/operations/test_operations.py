"""Operations, on both databases: long work in short transactions, followed over HTTP —
progress saved with the work it counts, a failure that keeps what was committed and says
why in the reader's language, a crash that is logged and never a traceback, who may see
an operation, and what a server finds at start (and leaves at stop) of operations whose
process is gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fixture_kit import ADMIN_EMAIL, problem_of
from sqlalchemy import func, select, update

from loom.platform.api.app import create_app
from loom.platform.operations import OperationRunner, Progress, Step, store
from loom.platform.operations.runner import SILENT
from loom.platform.security.actors import Actor
from loom.platform.security.tokens import issue_token
from loom.platform.security.users import NewUser, actor_from_row, create_user
from loom.platform.services import Services
from loom.platform.storage.chunks import ShortTransactions
from loom.platform.storage.system_tables import operations, users

NOTES = {"app": {"label": "Notes"}, "entities": {"note": {
    "label": {"zh-CN": "便签", "en": "Note"},
    "fields": {"title": {"type": "text", "label": {"zh-CN": "标题", "en": "Title"},
                         "required": True}}}}}


class World:
    def __init__(self, services: Services, client: httpx.AsyncClient,
                 runner: OperationRunner, admin: Actor) -> None:
        self.services, self.client, self.runner, self.admin = services, client, runner, admin

    async def start(self, work: Any, actor: Actor | None = None) -> int:
        actor = actor or self.admin
        async with self.services.database.write() as conn:
            operation_id = await store.create(conn, actor, "notes", app_id=None,
                                              params={"n": 1}, now=self.services.clock.now())
        self.runner.launch(operation_id, work)
        await self.runner.wait(operation_id)
        return operation_id

    def write_notes(self, titles: list[str | None]) -> Any:
        """Work that creates one note per title, a unit each, in short transactions."""
        services = self.services

        async def work(progress: Progress) -> dict[str, Any]:
            async with services.database.read() as conn:
                runtime = await services.apps.runtime(conn, self.admin, "notes")
            chunks = ShortTransactions(services.database, budget_ms=0,
                                       before_commit=progress.save)
            progress.so_far["written"] = 0
            async with chunks:
                for done, title in enumerate(titles, start=1):
                    await services.pipeline.create(await chunks.connection(), runtime,
                                                   self.admin, "note", {"title": title})
                    progress.so_far["written"] = done
                    progress.note(done, len(titles), Step("notes", runtime.entity(
                        "note").label))
                    await chunks.checkpoint()
            return {"written": len(titles), "transactions": chunks.committed}

        return work

    async def notes(self) -> int:
        async with self.services.database.read() as conn:
            runtime = await self.services.apps.runtime(conn, self.admin, "notes")
            return await conn.scalar(select(func.count()).select_from(
                runtime.tables["note"])) or 0


@pytest.fixture
async def world(services: Services) -> AsyncIterator[World]:
    app = create_app(services=services)
    async with services.database.write() as conn:
        row = (await conn.execute(select(users).where(users.c.email == ADMIN_EMAIL))
               ).mappings().one()
        token = await issue_token(conn, row["id"], services.clock)
        admin = actor_from_row(row)
        await services.apps.create(conn, admin, "notes", NOTES)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://loom.test",
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        yield World(services, client, app.state.operations, admin)


async def test_work_in_short_transactions_with_its_progress(world: World) -> None:
    operation_id = await world.start(world.write_notes(["a", "b", "c"]))
    shown = (await world.client.get(f"/api/operations/{operation_id}",
                                    headers={"Accept-Language": "zh-CN"})).json()
    assert shown["status"] == "succeeded"
    assert shown["result"] == {"written": 3, "transactions": 3}  # one unit each (budget 0)
    assert shown["progress"] == {"done": 3, "total": 3, "percent": 100,
                                 "step": {"name": "notes", "label": "便签"}}
    assert shown["started_by"] == world.admin.user_id and shown["error"] is None
    assert shown["started_at"] and shown["finished_at"]
    assert await world.notes() == 3


async def test_a_failure_keeps_what_was_committed_and_says_why(world: World) -> None:
    operation_id = await world.start(world.write_notes(["a", "b", None, "d"]))
    failed = (await world.client.get(f"/api/operations/{operation_id}",
                                     headers={"Accept-Language": "en"})).json()
    assert failed["status"] == "failed"
    assert failed["result"] == {"written": 2}  # what the committed transactions hold
    assert failed["progress"]["done"] == 2 and failed["progress"]["total"] == 4
    assert failed["error"]["status"] == 422
    assert failed["error"]["type"] == "urn:loom:problem:validation-failed"
    assert failed["error"]["errors"] == [{"field": "title", "message": "Title is required",
                                          "code": "required"}]
    in_chinese = (await world.client.get(f"/api/operations/{operation_id}",
                                         headers={"Accept-Language": "zh-CN"})).json()
    assert in_chinese["error"]["errors"][0]["message"] == "标题为必填项"
    assert await world.notes() == 2
    # the lock is free again at once
    async with world.services.database.write() as conn:
        await conn.execute(select(1))


async def test_a_crash_is_logged_and_reported_without_its_insides(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    async def crash(progress: Progress) -> dict[str, Any]:
        raise KeyError("secret insides")

    operation_id = await world.start(crash)
    crashed = (await world.client.get(f"/api/operations/{operation_id}",
                                      headers={"Accept-Language": "en"})).json()
    assert crashed["status"] == "failed" and crashed["result"] is None
    assert crashed["error"]["status"] == 500
    assert crashed["error"]["detail"] == "Something went wrong on our side; the error was " \
                                         "logged"
    assert "secret" not in str(crashed)
    assert any(r.message == "operation crashed" and r.exc_info for r in caplog.records)


async def test_who_may_see_an_operation(world: World, anonymous: httpx.AsyncClient) -> None:
    services = world.services
    async with services.database.write() as conn:
        clerk = await create_user(conn, world.admin.workspace_id, NewUser(
            email="clerk@example.com", name="Clerk"), services.clock)
        row = (await conn.execute(select(users).where(users.c.id == clerk["id"]))
               ).mappings().one()
        clerk_token = await issue_token(conn, clerk["id"], services.clock)
    as_clerk = {"Authorization": f"Bearer {clerk_token}"}
    mine = await world.start(world.write_notes(["x"]), actor_from_row(row))
    theirs = await world.start(world.write_notes(["y"]))
    client = world.client
    assert (await client.get(f"/api/operations/{theirs}", headers=as_clerk)).status_code \
        == 404
    assert (await client.get(f"/api/operations/{mine}", headers=as_clerk)).status_code == 200
    assert (await client.get(f"/api/operations/{mine}")).status_code == 200  # an admin
    listed = (await client.get("/api/operations", headers=as_clerk)).json()["items"]
    assert [item["id"] for item in listed] == [mine]
    everything = (await client.get("/api/operations")).json()["items"]
    assert [item["id"] for item in everything] == [theirs, mine]  # newest first
    assert (await client.get("/api/operations", params={"status": "failed"})
            ).json()["items"] == []
    assert [i["id"] for i in (await client.get("/api/operations", params={
        "before": theirs})).json()["items"]] == [mine]
    problem_of(await client.get("/api/operations", params={"status": "lost"}), 422)
    problem_of(await client.get("/api/operations/999999"), 404)
    problem_of(await anonymous.get(f"/api/operations/{mine}"), 401)


async def test_a_starting_server_fails_what_a_dead_one_left_running(world: World) -> None:
    services = world.services
    now = services.clock.now()
    async with services.database.write() as conn:
        dead = await store.create(conn, world.admin, "notes", app_id=None, params={}, now=now)
        await store.mark_running(conn, dead, "gone-host:1:dead", now - 2 * SILENT)
        await store.save_progress(conn, dead, done=5, total=9, step=None,
                                  now=now - 2 * SILENT)
        alive = await store.create(conn, world.admin, "notes", app_id=None, params={},
                                   now=now)
        await store.mark_running(conn, alive, "other-host:2:alive", now)
    app = create_app(services=services)
    async with app.router.lifespan_context(app):  # a server starts
        pass
    async with services.database.read() as conn:
        rows = {row.id: row for row in await conn.execute(select(operations))}
    assert rows[dead].status == "failed" and rows[dead].done == 5
    assert rows[dead].error["type"] == "urn:loom:problem:interrupted"
    assert "server stopped" in rows[dead].error["detail"]["en"]
    # PostgreSQL serves from many processes: one heard from lately is alive elsewhere;
    # SQLite has one server process, so whatever it left running is gone with it
    assert rows[alive].status == ("running" if services.database.is_postgres else "failed")


async def test_a_stopping_server_ends_its_operations_as_interrupted(
        services: Services) -> None:
    app = create_app(services=services)
    runner: OperationRunner = app.state.operations
    async with services.database.write() as conn:
        row = (await conn.execute(select(users).where(users.c.email == ADMIN_EMAIL))
               ).mappings().one()
        operation_id = await store.create(conn, actor_from_row(row), "notes", app_id=None,
                                          params={}, now=services.clock.now())

    begun = asyncio.Event()

    async def forever(progress: Progress) -> dict[str, Any]:
        progress.so_far["begun"] = True
        async with services.database.write() as conn:
            await progress.save(conn)
        begun.set()
        await asyncio.Event().wait()
        return {}

    async with app.router.lifespan_context(app):
        runner.launch(operation_id, forever)
        await asyncio.wait_for(begun.wait(), 30)
    async with services.database.read() as conn:
        row = (await conn.execute(select(operations).where(operations.c.id == operation_id))
               ).mappings().one()
    assert row["status"] == "failed" and row["result"] == {"begun": True}
    assert row["error"]["title"] == "Interrupted"


async def test_the_worker_fails_operations_nobody_is_alive_for(world: World) -> None:
    from loom.platform.worker import Worker

    services = world.services
    now = services.clock.now()
    async with services.database.write() as conn:
        silent = await store.create(conn, world.admin, "notes", app_id=None, params={},
                                    now=now)
        await store.mark_running(conn, silent, "gone:1:x", now)
        await conn.execute(update(operations).where(operations.c.id == silent).values(
            heartbeat_at=now - SILENT - timedelta(seconds=1)))
        alive = await store.create(conn, world.admin, "notes", app_id=None, params={},
                                   now=now)
        await store.mark_running(conn, alive, "here:2:y", now)
    report = await Worker(services).run_once(now)
    assert report.done["operations"] == 1
    async with services.database.read() as conn:
        statuses = dict((await conn.execute(select(operations.c.id, operations.c.status))
                         ).all())
    assert statuses == {silent: "failed", alive: "running"}
