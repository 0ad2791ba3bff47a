"""``loom worker`` killed outright (SIGKILL) in the middle of sending an email, on both
databases: once a worker runs again (after the killed one's lease ran out) every message
goes out; one the mail server had acknowledged and the worker had recorded is never sent
again, and the one cut off mid-send goes again under the same Message-ID, so the receiving
side can recognise the repeat. Bounded in time."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fault_kit import MAILS, SlowInbox, loom_process
from sqlalchemy import select

from loom.platform.outbox import store
from loom.platform.services import Services
from loom.platform.storage.system_tables import outbox


async def test_a_killed_worker_loses_no_message_and_repeats_none_it_recorded(
        services: Services, slow_smtp: tuple[SlowInbox, int], tmp_path: Path) -> None:
    inbox, port = slow_smtp
    smtp = f"smtp://127.0.0.1:{port}"
    async with services.database.write() as conn:
        for number in range(MAILS):
            await store.enqueue(conn, workspace_id=1, app_id=None, kind="email",
                                key=f"quote:{number}", now=services.clock.now(),
                                payload={"to": ["zhao@example.com"], "subject": f"报价 {number}",
                                         "text": "报价单见附件"})
    worker = await loom_process(services, tmp_path, "worker", "--poll", "0.2",
                                LOOM_SMTP_URL=smtp)
    try:
        async with asyncio.timeout(60):
            while True:  # the second message is with the mail server, not yet accepted
                if len(inbox.subjects) >= 2:
                    break
                await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        await asyncio.wait_for(worker.wait(), timeout=30)
    finally:
        if worker.returncode is None:
            worker.kill()
    async with services.database.read() as conn:
        recorded = {row["payload"]["subject"] for row in (await conn.execute(
            select(outbox).where(outbox.c.status == "sent"))).mappings()}
    assert 1 <= len(recorded) < MAILS

    # a worker again, once the killed one's lease (5 minutes) has run out
    later = (datetime.now(UTC) + timedelta(minutes=6)).isoformat()
    again = await loom_process(services, tmp_path, "worker", "--once", "--as-of", later,
                               LOOM_SMTP_URL=smtp)
    _, errors = await asyncio.wait_for(again.communicate(), timeout=120)
    assert again.returncode == 0, errors.decode()

    async with services.database.read() as conn:
        statuses = {row["status"] for row in (await conn.execute(select(outbox))).mappings()}
    assert statuses == {"sent"}
    assert sorted(set(inbox.subjects)) == sorted(f"报价 {n}" for n in range(MAILS))
    for subject in recorded:  # acknowledged and recorded: never again
        assert inbox.subjects.count(subject) == 1, subject
    repeats = {s for s in inbox.subjects if inbox.subjects.count(s) > 1}
    assert len(repeats) <= 1  # at most the one cut off mid-send …
    for subject in repeats:  # … and then under its own Message-ID again
        ids = {mid for s, mid in zip(inbox.subjects, inbox.message_ids, strict=True)
               if s == subject}
        assert len(ids) == 1
