"""The worker: everything that happens because time passed — timed rules (schedules and
dates), scheduled jobs, task timers and outbox deliveries, in that order, so what the rules,
jobs and timers queue goes out in the same round; then housekeeping: operations whose server
process went silent are marked interrupted, sign-in leftovers and recycle bin items past
LOOM_RECYCLE_DAYS are removed.

``run_once(as_of)`` does exactly what is due at ``as_of`` and nothing twice (what it has done
is recorded), which is what ``loom worker --once --as-of …`` and simulations rely on. On
PostgreSQL many workers may run at once; they claim work with ``FOR UPDATE SKIP LOCKED``.

``run`` (``loom worker``) keeps a heartbeat (``worker_heartbeat.py``) and stops cleanly when
told to (SIGTERM): the delivery or timer in hand is finished, what was claimed and not begun
is given back at once, the heartbeat is marked stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from loom.metamodel.errors import describe_error
from loom.platform import metrics
from loom.platform import worker_heartbeat as heartbeat
from loom.platform.flows.timers import run_flow_timers
from loom.platform.jobs.schedule import run_due_jobs
from loom.platform.operations.runner import SILENT, fail_abandoned
from loom.platform.outbox import store
from loom.platform.outbox.email import DeliveryError, EmailTransport
from loom.platform.outbox.webhooks import WebhookTransport
from loom.platform.records.recycle_bin import sweep_recycle_bin
from loom.platform.records.stage_reminders import run_stage_reminders
from loom.platform.rules.timed import run_timed_rules
from loom.platform.security.housekeeping import sweep_identity
from loom.platform.services import Services
from loom.platform.storage.leases import release
from loom.platform.storage.system_tables import outbox
from loom.platform.tasks.timers import run_timers

log = logging.getLogger("loom.worker")

# A duty takes the moment to act as of and returns how many things it did.
Duty = Callable[[datetime], Awaitable[int]]


@dataclass
class WorkReport:
    done: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.done.values())


class Worker:
    def __init__(self, services: Services, *, email: EmailTransport | None = None,
                 webhooks: WebhookTransport | None = None) -> None:
        self.services = services
        settings = services.settings
        self.email = email or EmailTransport(settings.smtp_url, settings.mail_from)
        self.webhooks = webhooks or WebhookTransport()
        # set when the worker is to stop (SIGTERM): the work in hand is finished, what was
        # claimed and not begun is given back, the remaining duties wait for the next start
        self.stopping = asyncio.Event()
        self.duties: dict[str, Duty] = {"rules": partial(run_timed_rules, services),
                                        "jobs": partial(run_due_jobs, services),
                                        "timers": self.fire_task_timers,
                                        "flows": self.fire_flow_timers,
                                        "stages": partial(run_stage_reminders, services),
                                        "outbox": self.deliver_outbox,
                                        "identity": partial(sweep_identity, services.database,
                                                             services.settings),
                                        "operations": self.fail_silent_operations,
                                        "recycle_bin": partial(sweep_recycle_bin, services)}

    async def run_once(self, as_of: datetime | None = None) -> WorkReport:
        """Do everything due at ``as_of`` (default: now), duty by duty."""
        moment = as_of or self.services.clock.now()
        report = WorkReport()
        for name, duty in self.duties.items():
            if self.stopping.is_set():
                break
            report.done[name] = await duty(moment)
        return report

    async def run(self, stop: asyncio.Event, poll_seconds: float = 2.0) -> None:
        """Work until ``stop`` is set, sleeping when there is nothing to do; the worker's
        heartbeat (``worker_heartbeat.py``) says it is alive meanwhile."""
        database, clock = self.services.database, self.services.clock
        self.stopping = stop
        name, started = heartbeat.worker_name(), clock.now()
        await heartbeat.beat(database, name, started, started_at=started)
        beating = asyncio.create_task(self._beat(name, started, stop))
        try:
            while not stop.is_set():
                report, error = WorkReport(), None
                try:
                    report = await self.run_once()
                except Exception as exc:  # keep working; the failure is in the log
                    log.exception("worker round failed")
                    error = describe_error(exc)
                if stop.is_set():  # a round cut short by the stop is no round
                    break
                metrics.worker_rounds.labels("failed" if error else "done").inc()
                with contextlib.suppress(Exception):  # a busy database: the next round
                    await heartbeat.round_done(database, name, clock.now(), report.done,
                                               error)
                if report.total == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
        finally:
            # the last word is "stopped": no beat of the heartbeat task may land after it
            beating.cancel()
            await asyncio.wait([beating])
            with contextlib.suppress(Exception):
                await heartbeat.stopped(database, name, clock.now())

    async def _beat(self, name: str, started: datetime, stop: asyncio.Event) -> None:
        """Every few seconds, however long a round takes."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=heartbeat.BEAT_SECONDS)
            if stop.is_set():
                break
            try:
                await heartbeat.beat(self.services.database, name, self.services.clock.now(),
                                     started_at=started)
            except Exception:  # the database is away: the heartbeat goes stale, as it should
                log.warning("worker heartbeat failed", exc_info=True)

    async def fire_task_timers(self, as_of: datetime) -> int:
        return await run_timers(self.services, as_of, stopping=self.stopping)

    async def fire_flow_timers(self, as_of: datetime) -> int:
        return await run_flow_timers(self.services, as_of, stopping=self.stopping)

    async def fail_silent_operations(self, as_of: datetime) -> int:
        """Operations whose server stopped without a word (it restarted, on PostgreSQL,
        before they went silent long enough for its own start to notice)."""
        return await fail_abandoned(self.services, as_of - SILENT)

    async def deliver_outbox(self, as_of: datetime) -> int:
        database = self.services.database
        delivered = 0
        while not self.stopping.is_set():
            async with database.write() as conn:
                items = await store.claim_due(conn, as_of)
            if not items:
                return delivered
            for position, item in enumerate(items):
                if self.stopping.is_set():  # never begun: another worker takes them now
                    async with database.write() as conn:
                        await release(conn, outbox, [i["id"] for i in items[position:]])
                    return delivered
                error = await self._deliver(item, as_of)
                async with database.write() as conn:
                    if error is None:
                        await store.mark_sent(conn, item["id"], as_of)
                        delivered += 1
                        metrics.outbox_deliveries.labels(item["kind"], "sent").inc()
                    else:
                        status = await store.mark_failed(conn, item, error, as_of)
                        metrics.outbox_deliveries.labels(item["kind"], status).inc()
                        log.warning("delivery failed", extra={
                            "outbox_id": item["id"], "kind": item["kind"], "status": status,
                            "error": error})
        return delivered

    async def _deliver(self, item: dict, as_of: datetime) -> str | None:
        try:
            if item["kind"] == "email":
                await self.email.send(item["payload"], item["idempotency_key"])
            elif item["kind"] == "webhook":
                await self.webhooks.send(item["payload"], item["idempotency_key"],
                                         int(as_of.timestamp()))
            else:
                return f"unknown kind {item['kind']}"
        except DeliveryError as exc:
            return str(exc)
        except Exception as exc:  # a delivery must never stop the worker
            log.exception("delivery crashed", extra={"outbox_id": item["id"]})
            return f"unexpected error: {exc}"
        return None
