"""Running operations as tasks of the server process that accepted them (on SQLite there is
one such process). The request queues the operation in its own transaction and launches
it once that commits; the task marks it running, lets the work report its progress (saved
with each transaction the work commits) and ends it succeeded or failed.

A process that dies leaves its operations ``running``. Each runner says it is alive
(``heartbeat_at``) while it has work; a server that starts fails the operations nobody is
alive for — on SQLite every unfinished one, on PostgreSQL (many processes) those silent for
``SILENT``; the worker does the same for PostgreSQL servers that restarted in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import LoomError
from loom.platform.operations import store
from loom.platform.operations.progress import Progress

if TYPE_CHECKING:
    from loom.platform.services import Services

log = logging.getLogger("loom.operations")
HEARTBEAT_SECONDS = 15
SILENT = timedelta(seconds=4 * HEARTBEAT_SECONDS)

# The work of an operation: reports to its progress, returns its result.
Work = Callable[[Progress], Awaitable[dict[str, Any]]]


class OperationProgress(Progress):
    """Progress saved on the operation's row, in the transaction of the work it counts."""

    def __init__(self, services: Services, operation_id: int) -> None:
        super().__init__()
        self.services = services
        self.operation_id = operation_id

    async def keep(self, conn: AsyncConnection) -> None:
        await store.save_progress(conn, self.operation_id, done=self.done, total=self.total,
                                  step=self.step.as_json() if self.step else None,
                                  now=self.services.clock.now())


class OperationRunner:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[-100:]
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._heartbeat: asyncio.Task[None] | None = None

    def launch(self, operation_id: int, work: Work) -> None:
        """Start a queued operation (after the transaction that queued it committed)."""
        task = asyncio.create_task(self._run(operation_id, work),
                                   name=f"operation {operation_id}")
        self._tasks[operation_id] = task
        task.add_done_callback(lambda _: self._ended(operation_id))
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beat(), name="operations heartbeat")

    def _ended(self, operation_id: int) -> None:
        self._tasks.pop(operation_id, None)
        if not self._tasks and self._heartbeat is not None:
            self._heartbeat.cancel()

    async def wait(self, operation_id: int) -> None:
        """Until the operation's task ends (tests, a CLI that started one)."""
        task = self._tasks.get(operation_id)
        if task is not None:
            await asyncio.shield(task)

    def runs_here(self, operation_id: int) -> bool:
        return operation_id in self._tasks

    async def wait_at_most(self, operation_id: int, seconds: float) -> None:
        """Until the operation's task here ends or ``seconds`` pass, whichever is first."""
        task = self._tasks.get(operation_id)
        if task is not None:
            await asyncio.wait([task], timeout=seconds)

    async def recover(self) -> int:
        """At start: fail the operations left unfinished by a process that is gone."""
        now = self.services.clock.now()
        silent_since = None if not self.services.database.is_postgres else now - SILENT
        return await fail_abandoned(self.services, silent_since)

    async def shutdown(self) -> None:
        """The server stops: its operations end as interrupted, their work so far kept."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        await asyncio.gather(*tasks, *([self._heartbeat] if self._heartbeat else []),
                             return_exceptions=True)

    async def _run(self, operation_id: int, work: Work) -> None:
        services = self.services
        progress = OperationProgress(services, operation_id)
        try:
            async with services.database.write() as conn:
                await store.mark_running(conn, operation_id, self.name, services.clock.now())
            result = await work(progress)
        except asyncio.CancelledError:  # the server is stopping
            await self._end(operation_id, "failed", progress.saved or None,
                            store.interrupted(), stopping=True)
            raise
        except Exception as exc:  # the operation fails; the server goes on
            if not isinstance(exc, LoomError):
                log.exception("operation crashed", extra={"operation_id": operation_id})
            await self._end(operation_id, "failed", progress.saved or None, exc)
            return
        await self._end(operation_id, "succeeded", result, None)

    async def _end(self, operation_id: int, status: store.Status,
                   result: dict[str, Any] | None, error: BaseException | None, *,
                   stopping: bool = False) -> None:
        try:
            async with self.services.database.write() as conn:
                await store.finish(conn, operation_id, status=status, result=result,
                                   error=store.problem_document(error) if error else None,
                                   now=self.services.clock.now())
        except Exception:  # the next start (or the worker) marks it interrupted
            if stopping:  # expected while the server stops (the database may be busy)
                log.warning("operation end not saved while stopping; the next start marks "
                            "it interrupted", extra={"operation_id": operation_id})
            else:
                log.exception("operation end not saved",
                              extra={"operation_id": operation_id})

    async def _beat(self) -> None:
        """While operations run (cancelled when the last one ends)."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(LoomError):  # busy: the next beat will do
                async with self.services.database.write() as conn:
                    await store.heartbeat(conn, self.name, self.services.clock.now())


async def fail_abandoned(services: Services, silent_since: datetime | None) -> int:
    """Fail the unfinished operations nobody has been alive for since ``silent_since``."""
    async with services.database.write() as conn:
        count = await store.fail_abandoned(conn, services.clock.now(), silent_since)
    if count:
        log.warning("operations interrupted", extra={"count": count})
    return count
