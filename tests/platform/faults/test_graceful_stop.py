"""SIGTERM, on both databases: ``loom worker`` finishes the delivery in hand, gives back the
deliveries it had claimed but not begun (another worker takes them at once, not when the
lease runs out), marks its heartbeat stopped and exits; nothing is sent twice (and its own
``/metrics`` counted what it sent). ``loom serve`` lets a request under way finish, then
exits. Each bounded in time."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
from fault_kit import MAILS, SlowInbox, loom_process, loom_server
from fixture_kit import free_port
from sqlalchemy import select

from loom.platform.outbox import store
from loom.platform.outbox.email import EmailTransport
from loom.platform.services import Services
from loom.platform.storage.system_tables import outbox, worker_heartbeats
from loom.platform.worker import Worker


async def stopped(process: asyncio.subprocess.Process, seconds: float) -> str:
    """Its exit, at most ``seconds`` after SIGTERM; its standard error."""
    process.send_signal(signal.SIGTERM)
    _, errors = await asyncio.wait_for(process.communicate(), timeout=seconds)
    return errors.decode()


async def test_a_stopped_worker_gives_back_what_it_had_not_begun(
        services: Services, slow_smtp: tuple[SlowInbox, int], tmp_path: Path) -> None:
    inbox, port = slow_smtp
    async with services.database.write() as conn:
        for number in range(MAILS):
            await store.enqueue(conn, workspace_id=1, app_id=None, kind="email",
                                key=f"reminder:{number}", now=services.clock.now(),
                                payload={"to": ["li@example.com"], "subject": f"提醒 {number}",
                                         "text": "请跟进客户"})
    metrics_port = free_port()
    worker = await loom_process(services, tmp_path, "worker", "--poll", "0.2",
                                LOOM_SMTP_URL=f"smtp://127.0.0.1:{port}",
                                LOOM_WORKER_METRICS_PORT=str(metrics_port))
    try:
        async with asyncio.timeout(60):
            while True:  # until the second message is under way
                if len(inbox.subjects) >= 2:
                    break
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient() as client:  # the worker's own counters
            scraped = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
        sent_line = next(line for line in scraped.text.splitlines() if line.startswith(
            'loom_outbox_deliveries_total{kind="email",result="sent"}'))
        assert float(sent_line.split()[-1]) >= 1
        errors = await stopped(worker, 30)
    finally:
        if worker.returncode is None:
            worker.kill()
    assert worker.returncode == 0, errors

    async with services.database.read() as conn:
        rows = (await conn.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
        [beat] = (await conn.execute(select(worker_heartbeats))).mappings().all()
    sent = [row for row in rows if row["status"] == "sent"]
    waiting = [row for row in rows if row["status"] == "pending"]
    assert len(sent) == len(inbox.subjects) and 2 <= len(sent) < MAILS  # the one in hand finished
    assert len(waiting) == MAILS - len(sent)
    assert all(row["claimed_until"] is None for row in waiting)  # given back
    assert beat["stopped_at"] is not None

    # another worker at once (not when a lease runs out): the rest, each once
    services.settings.smtp_url = f"smtp://127.0.0.1:{port}"
    again = Worker(services, email=EmailTransport(services.settings.smtp_url, "crm@example.com"))
    assert (await again.deliver_outbox(services.clock.now())) == MAILS - len(sent)
    assert sorted(inbox.subjects) == sorted(row["payload"]["subject"] for row in rows)


async def test_a_stopped_server_finishes_the_request_under_way(services: Services,
                                                               tmp_path: Path) -> None:
    port = free_port()
    server = await loom_server(services, tmp_path, port, LOOM_SHUTDOWN_SECONDS="20")
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            sent_first_part = asyncio.Event()

            async def slow_body() -> Any:
                yield b'{"email": "admin@example.com", '
                sent_first_part.set()
                await asyncio.sleep(1.5)  # SIGTERM arrives meanwhile
                yield b'"password": "admin-password-1"}'

            login = asyncio.create_task(client.post(
                "/api/auth/token", content=slow_body(),
                headers={"Content-Type": "application/json"}))
            await sent_first_part.wait()
            await asyncio.sleep(0.3)
            stopping = asyncio.create_task(stopped(server, 30))
            response = await login
        assert response.status_code == 200, response.text
        assert response.json()["access_token"]
        errors = await stopping
    finally:
        if server.returncode is None:
            server.kill()
    # uvicorn ends by the signal it caught, once shut down (systemd counts that as clean)
    assert server.returncode in (0, -signal.SIGTERM), errors
    assert "Application shutdown complete" in errors
