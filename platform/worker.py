"""The worker: everything that happens because time passed — timed rules (schedules and
dates), scheduled jobs, task timers and outbox deliveries, in that order, so what the rules,
jobs and timers queue goes out in the same round; then housekeeping: operations whose server
process went silent are marked interrupted, sign-in leftovers and recycle bin items past
LOOM_RECYCLE_DAYS are removed.

``run_once(as_of)`` does exactly what is due at ``as_of`` and nothing twice (what it has done
is recorded), which is what ``loom worker --once --as-of …`` and simulations rely on. On
PostgreSQL many workers may run at once; they claim work with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

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
        self.duties: dict[str, Duty] = {"rules": partial(run_timed_rules, services),
                                        "jobs": partial(run_due_jobs, services),
                                        "timers": partial(run_timers, services),
                                        "flows": partial(run_flow_timers, services),
                                        "stages": partial(run_stage_reminders, services),
                                        "outbox": self.deliver_outbox,
                                        "identity": partial(sweep_identity, services),
                                        "operations": self.fail_silent_operations,
                                        "recycle_bin": partial(sweep_recycle_bin, services)}

    async def run_once(self, as_of: datetime | None = None) -> WorkReport:
        """Do everything due at ``as_of`` (default: now), duty by duty."""
        moment = as_of or self.services.clock.now()
        report = WorkReport()
        for name, duty in self.duties.items():
            report.done[name] = await duty(moment)
        return report

    async def run(self, stop: asyncio.Event, poll_seconds: float = 2.0) -> None:
        """Work until ``stop`` is set, sleeping when there is nothing to do."""
        while not stop.is_set():
            try:
                report = await self.run_once()
            except Exception:  # keep working; the failure is in the log
                log.exception("worker round failed")
                report = WorkReport()
            if report.total == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=poll_seconds)

    async def fail_silent_operations(self, as_of: datetime) -> int:
        """Operations whose server stopped without a word (it restarted, on PostgreSQL,
        before they went silent long enough for its own start to notice)."""
        return await fail_abandoned(self.services, as_of - SILENT)

    async def deliver_outbox(self, as_of: datetime) -> int:
        database = self.services.database
        delivered = 0
        while True:
            async with database.write() as conn:
                items = await store.claim_due(conn, as_of)
            if not items:
                return delivered
            for item in items:
                error = await self._deliver(item, as_of)
                async with database.write() as conn:
                    if error is None:
                        await store.mark_sent(conn, item["id"], as_of)
                        delivered += 1
                    else:
                        status = await store.mark_failed(conn, item, error, as_of)
                        log.warning("delivery failed", extra={
                            "outbox_id": item["id"], "kind": item["kind"], "status": status,
                            "error": error})

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
