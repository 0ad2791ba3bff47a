"""``loom worker`` killed outright (SIGKILL) in the middle of a delivery — an email, or a
webhook — on both databases: once a worker runs again (after the killed one's lease ran
out) every delivery goes out; one the receiving side had acknowledged and the worker had
recorded is never sent again, and the one cut off mid-send goes again under the same
identity (its Message-ID, or its ``X-Loom-Delivery`` idempotency key), so the receiving side
can recognise the repeat. Bounded in time."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fault_kit import MAILS, SlowInbox, SlowReceiver, loom_process
from sqlalchemy import select

from loom.platform.outbox import store
from loom.platform.services import Services
from loom.platform.storage.system_tables import outbox


async def queue(services: Services, kind: str, payload_of: Callable[[int], dict[str, Any]]
                ) -> None:
    async with services.database.write() as conn:
        for number in range(MAILS):
            await store.enqueue(conn, workspace_id=1, app_id=None, kind=kind,
                                key=f"quote:{number}", now=services.clock.now(),
                                payload=payload_of(number))


async def killed_mid_delivery(services: Services, tmp_path: Path, arrived: list[str],
                              **env: str) -> set[str]:
    """A worker killed while the second delivery is with the receiver, not yet answered;
    the subjects it had recorded as sent (an email's, a webhook body's)."""
    worker = await loom_process(services, tmp_path, "worker", "--poll", "0.2", **env)
    try:
        async with asyncio.timeout(60):
            while True:
                if len(arrived) >= 2:
                    break
                await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        await asyncio.wait_for(worker.wait(), timeout=30)
    finally:
        if worker.returncode is None:
            worker.kill()
    async with services.database.read() as conn:
        recorded = {row["payload"].get("body", row["payload"])["subject"] for row in (
            await conn.execute(
                select(outbox).where(outbox.c.status == "sent"))).mappings()}
    assert 1 <= len(recorded) < MAILS
    return recorded


async def worker_after_lease(services: Services, tmp_path: Path, **env: str) -> None:
    """A worker again, once the killed one's lease (5 minutes) has run out: all is sent."""
    later = (datetime.now(UTC) + timedelta(minutes=6)).isoformat()
    again = await loom_process(services, tmp_path, "worker", "--once", "--as-of", later, **env)
    _, errors = await asyncio.wait_for(again.communicate(), timeout=120)
    assert again.returncode == 0, errors.decode()
    async with services.database.read() as conn:
        statuses = {row["status"] for row in (await conn.execute(select(outbox))).mappings()}
    assert statuses == {"sent"}


def delivered_once(subjects: list[str], identities: list[str], recorded: set[str]) -> None:
    """Every subject arrived; the recorded ones once; at most one again, as itself."""
    assert sorted(set(subjects)) == sorted(f"报价 {n}" for n in range(MAILS))
    for subject in recorded:  # acknowledged and recorded: never again
        assert subjects.count(subject) == 1, subject
    repeats = {s for s in subjects if subjects.count(s) > 1}
    assert len(repeats) <= 1  # at most the one cut off mid-send …
    for subject in repeats:  # … and then under its own identity again
        assert len({i for s, i in zip(subjects, identities, strict=True) if s == subject}) == 1


async def test_a_killed_worker_loses_no_message_and_repeats_none_it_recorded(
        services: Services, slow_smtp: tuple[SlowInbox, int], tmp_path: Path) -> None:
    inbox, port = slow_smtp
    smtp = f"smtp://127.0.0.1:{port}"
    await queue(services, "email", lambda n: {"to": ["zhao@example.com"], "subject": f"报价 {n}",
                                              "text": "报价单见附件"})
    recorded = await killed_mid_delivery(services, tmp_path, inbox.subjects, LOOM_SMTP_URL=smtp)
    await worker_after_lease(services, tmp_path, LOOM_SMTP_URL=smtp)
    delivered_once(inbox.subjects, inbox.message_ids, recorded)


async def test_a_killed_worker_loses_no_webhook_and_repeats_none_it_recorded(
        services: Services, slow_webhooks: tuple[SlowReceiver, int], tmp_path: Path) -> None:
    receiver, port = slow_webhooks
    await queue(services, "webhook", lambda n: {"url": f"http://127.0.0.1:{port}/hooks",
                                                "body": {"subject": f"报价 {n}"}})
    recorded = await killed_mid_delivery(services, tmp_path, receiver.subjects)
    await worker_after_lease(services, tmp_path)
    delivered_once(receiver.subjects, receiver.keys, recorded)
    # the idempotency key is the outbox's own, one per queued delivery
    assert sorted(set(receiver.keys)) == sorted(f"quote:{n}" for n in range(MAILS))
