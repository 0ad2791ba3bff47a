"""Running a job: claim the run, stage and write its values, send the watched changes
through the write pipeline, record how it went.

Transactions: the claim, the computation, the set-based write of the unwatched changes
and their audit entries commit together (all or nothing). The watched changes then go
through the pipeline so their rules and flows run as for any save, each record in its own
savepoint, in short transactions (``ShortTransactions``: committed once they have run for
``LOOM_WRITE_CHUNK_MS``, so SQLite's write lock is never held for long); a record that
fails keeps its old values (the next run tries again) and is reported in the run's
result.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import text

from loom.engines.expressions import ExpressionError
from loom.metamodel.errors import LoomError, NotFound, describe_error
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.jobs import AnyJob, ClvJob
from loom.platform import metrics
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment
from loom.platform.jobs import runs
from loom.platform.jobs.rfm import StagedRun, stage_rfm
from loom.platform.records.context import WriteBudget
from loom.platform.security.actors import Actor, system_actor
from loom.platform.security.permissions import FULL_ACCESS
from loom.platform.storage.busy import busy_error
from loom.platform.storage.chunks import ShortTransactions

if TYPE_CHECKING:
    from loom.platform.services import Services

log = logging.getLogger("loom.jobs")
MAX_REPORTED_FAILURES = 20
Trigger = Literal["manual", "schedule"]

register_messages({
    "job_not_found": {"en": "App '{app}' has no job '{job}'",
                      "zh-CN": "应用“{app}”中没有任务“{job}”"},
    "job_failed": {"en": "The job '{job}' failed: {error}",
                   "zh-CN": "任务“{job}”运行失败：{error}"},
})


class JobFailed(LoomError):
    status = 500
    type_slug = "job-failed"
    title = "Job failed"


class JobRefused(LoomError):
    """The job cannot run on the data it has (e.g. too few repeat buyers to fit a model):
    the run is recorded as failed, and the caller told why in their language."""

    status = 422
    type_slug = "job-refused"
    title = "The job cannot run on this data"


def job_spec(runtime: AppRuntime, name: str) -> AnyJob:
    job = runtime.doc.jobs.get(name)
    if job is None:
        raise NotFound(message("job_not_found", app=runtime.slug, job=name))
    return job


def job_zone(runtime: AppRuntime, job: AnyJob) -> ZoneInfo:
    zone = job.schedule.timezone if job.schedule and job.schedule.timezone else None
    return ZoneInfo(zone or runtime.doc.app.timezone)


class JobRunner:
    def __init__(self, services: Services) -> None:
        self.services = services

    def today(self, runtime: AppRuntime, job: AnyJob) -> date:
        return self.services.clock.now().astimezone(job_zone(runtime, job)).date()

    async def run(self, runtime: AppRuntime, name: str, *, as_of: date | None = None,
                  trigger: Trigger = "manual", slot: str | None = None,
                  actor: Actor | None = None) -> dict[str, Any] | None:
        """Run job ``name`` as of ``as_of`` (default: today in its zone); the run as
        ``runs.public`` shows it, or None when the slot was claimed already."""
        started = time.perf_counter()
        status = "failed"
        try:
            done = await self._run(runtime, name, as_of=as_of, trigger=trigger, slot=slot,
                                   actor=actor)
            status = "done" if done is not None else "skipped"
            return done
        finally:
            metrics.job_duration.labels(name, status).observe(time.perf_counter() - started)

    async def _run(self, runtime: AppRuntime, name: str, *, as_of: date | None,
                   trigger: Trigger, slot: str | None,
                   actor: Actor | None) -> dict[str, Any] | None:
        job = job_spec(runtime, name)
        as_of = as_of or self.today(runtime, job)
        clock, database = self.services.clock, self.services.database
        started = clock.now()
        actor_id = actor.user_id if actor else None
        job_actor = system_actor(runtime.workspace_id, "job")
        try:
            async with database.write() as conn:
                run_id = await runs.claim(conn, app_id=runtime.app_id, job=name,
                                          trigger=trigger, slot=slot, as_of=as_of,
                                          now=started, actor_id=actor_id)
                if run_id is None:
                    return None
                staged = await self._stage(conn, runtime, job, as_of, started, job_actor)
        except Exception as exc:  # recorded for the admin; the caller hears of it too
            refused = isinstance(exc, LoomError) and exc.status < 500 and exc.detail is not None
            error = describe_error(exc)
            if refused:  # the data, not the code: no traceback
                log.warning("job refused: %s", error, extra={"app": runtime.slug, "job": name})
            else:
                log.exception("job failed", extra={"app": runtime.slug, "job": name})
            async with database.write() as conn:
                await runs.record_failure(conn, app_id=runtime.app_id, job=name,
                                          trigger=trigger, slot=slot, as_of=as_of,
                                          started=started, now=clock.now(),
                                          actor_id=actor_id, error=error)
            if refused:
                assert isinstance(exc, LoomError)
                raise JobRefused(message("job_failed", job=name, error=exc.detail),
                                 exc.problems) from None
            raise JobFailed(message("job_failed", job=name, error=error)) from None
        try:
            failures = await self._through_pipeline(runtime, job.subject, staged.watched,
                                                    job_actor)
        except Exception as exc:  # the database gave out half-way: the run says so
            log.exception("job failed", extra={"app": runtime.slug, "job": name})
            async with database.write() as conn:
                await runs.finish(conn, run_id, status="failed", now=clock.now(),
                                  counts=staged.counts, result=staged.result,
                                  error=describe_error(exc))
            raise JobFailed(message("job_failed", job=name, error=describe_error(exc))) \
                from None
        counts = {**staged.counts, "failed": len(failures)}
        result = {**staged.result, "failures": failures[:MAX_REPORTED_FAILURES]}
        async with database.write() as conn:
            await runs.finish(conn, run_id, status="done", now=clock.now(), counts=counts,
                              result=result)
            found = await runs.list_runs(conn, runtime.app_id, name, limit=1)
        return found[0]

    async def _stage(self, conn: Any, runtime: AppRuntime, job: AnyJob, as_of: date,
                     now: datetime, actor: Actor) -> StagedRun:
        env = environment(runtime, actor, now)
        if conn.dialect.name == "postgresql":  # for this transaction only; the setting is
            memory = self.services.settings.job_work_mem  # checked: digits and a unit
            await conn.execute(text(f"SET LOCAL work_mem = '{memory}'"))
        if isinstance(job, ClvJob):
            # its models need numpy and scipy, a second of CPU to import: loaded here, so
            # every command and server start that runs no CLV job goes without them
            from loom.platform.jobs.clv import stage_clv

            return await stage_clv(conn, runtime, job, as_of=as_of, now=now, env=env)
        return await stage_rfm(conn, runtime, job, as_of=as_of, now=now, env=env)

    async def _through_pipeline(self, runtime: AppRuntime, entity: str,
                                rows: list[dict[str, Any]],
                                actor: Actor) -> list[dict[str, Any]]:
        """Each record in its own savepoint, a few per short transaction: one that fails
        keeps its old values and is reported, the others are written."""
        failures: list[dict[str, Any]] = []
        chunks = ShortTransactions(self.services.database,
                                   budget_ms=self.services.settings.write_chunk_ms)
        async with chunks:
            for row in rows:
                error = await self._write_alone(await chunks.connection(), runtime, entity,
                                                row, actor)
                if error is not None:
                    failures.append({"record_id": row["id"], "error": error})
                await chunks.checkpoint()
        return failures

    async def _write(self, conn: Any, runtime: AppRuntime, entity: str,
                     row: dict[str, Any], actor: Actor) -> None:
        changes = {name: value for name, value in row.items() if name != "id"}
        await self.services.pipeline.update(conn, runtime, actor, entity, row["id"], changes,
                                            access=FULL_ACCESS, budget=WriteBudget())

    async def _write_alone(self, conn: Any, runtime: AppRuntime, entity: str,
                           row: dict[str, Any], actor: Actor) -> str | None:
        try:
            async with conn.begin_nested():
                await self._write(conn, runtime, entity, row, actor)
        except (LoomError, ExpressionError) as exc:
            return describe_error(exc, runtime.doc.app.default_locale)
        except Exception as exc:  # a fault nobody foresaw: reported, the others go on
            busy = busy_error(exc)  # a lock another writer kept: the next run tries again
            if busy is not None:
                return describe_error(busy, runtime.doc.app.default_locale)
            log.exception("job record write crashed", extra={"app": runtime.slug,
                                                             "record_id": row["id"]})
            return f"unexpected error: {exc}"
        return None
