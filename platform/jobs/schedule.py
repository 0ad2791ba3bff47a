"""The worker duty that runs scheduled jobs: for each enabled job with a schedule, the
latest tick at or before ``as_of`` (read in the job's time zone) runs once, as of that
tick's local date. Missed ticks are not replayed — a job computes a state, and the latest
one is what counts. The tick is claimed by the run's row in ``job_runs`` (unique per app,
job and slot), in the transaction that computes it, so two workers never both run it; a
run that fails keeps its claim (no retry every round) and shows its error in the runs."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from loom.engines.timing import last_tick
from loom.metamodel.errors import LoomError
from loom.platform.jobs.runner import JobRunner, job_zone
from loom.platform.rules.moments import moment_slot
from loom.platform.storage.system_tables import job_runs

if TYPE_CHECKING:
    from loom.platform.services import Services

log = logging.getLogger("loom.jobs")


async def run_due_jobs(services: Services, as_of: datetime) -> int:
    """Run every scheduled job that is due at ``as_of``; returns how many ran."""
    async with services.database.read() as conn:
        runtimes = await services.apps.published_runtimes(conn)
    runner, ran = JobRunner(services), 0
    for runtime in runtimes:
        for name, job in runtime.doc.jobs.items():
            if job.schedule is None or not job.enabled:
                continue
            tick = last_tick(job.schedule.cron, as_of.astimezone(job_zone(runtime, job)))
            slot = moment_slot(tick)
            async with services.database.read() as conn:
                done = await conn.scalar(select(job_runs.c.id).where(
                    job_runs.c.app_id == runtime.app_id, job_runs.c.job == name,
                    job_runs.c.slot == slot))
            if done is not None:
                continue
            try:
                found = await runner.run(runtime, name, as_of=tick.date(), trigger="schedule",
                                         slot=slot)
            except LoomError:  # recorded in job_runs and logged by the runner
                continue
            except Exception:  # one broken job must not keep the others from running
                log.exception("scheduled job failed", extra={"app": runtime.slug,
                                                             "job": name})
                continue
            ran += found is not None
    return ran
