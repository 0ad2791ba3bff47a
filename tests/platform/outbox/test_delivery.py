"""Outbox delivery: real SMTP (an in-process aiosmtpd server), signed webhooks, retries with
backoff, dead letters an administrator can retry, and nothing sent twice."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fixture_kit import free_port

from loom.platform.outbox import store
from loom.platform.outbox.email import EmailTransport
from loom.platform.outbox.webhooks import WebhookTransport
from loom.platform.services import Services
from loom.platform.worker import Worker


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


async def _enqueue_email(services: Services, key: str = "welcome:1") -> None:
    async with services.database.write() as conn:
        await store.enqueue(conn, workspace_id=1, app_id=None, kind="email", key=key,
                            payload={"to": ["wang@example.com"], "subject": "欢迎 Welcome",
                                     "text": "您好，王先生"}, now=services.clock.now())


def _worker(services: Services, port: int, **kwargs: Any) -> Worker:
    return Worker(services, email=EmailTransport(f"smtp://127.0.0.1:{port}",
                                                 "crm@example.com"), **kwargs)


async def test_email_is_delivered_once(services: Services, smtp: Inbox, smtp_port: int) -> None:
    await _enqueue_email(services)
    await _enqueue_email(services)  # the same key twice is one side effect
    worker = _worker(services, smtp_port)
    assert (await worker.run_once()).done["outbox"] == 1
    assert (await worker.run_once()).done["outbox"] == 0
    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    assert received["Subject"] == "欢迎 Welcome"
    assert received["To"] == "wang@example.com"
    assert received.get_content().strip() == "您好，王先生"
    async with services.database.read() as conn:
        (item,) = await store.list_items(conn, 1)
    assert item["status"] == "sent" and item["attempts"] == 1


async def test_smtp_down_retries_with_backoff_then_delivers(services: Services,
                                                            smtp_port: int) -> None:
    await _enqueue_email(services)
    worker = _worker(services, smtp_port)
    start = services.clock.now()
    assert (await worker.run_once(start)).done["outbox"] == 0
    async with services.database.read() as conn:
        (item,) = await store.list_items(conn, 1)
    assert item["status"] == "failed" and item["attempts"] == 1
    assert "127.0.0.1" in item["last_error"]
    assert item["next_attempt_at"] == start + timedelta(seconds=store.BACKOFF[0])

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        # not yet due: nothing happens even though the server is back
        assert (await worker.run_once(start + timedelta(seconds=30))).done["outbox"] == 0
        assert (await worker.run_once(start + timedelta(minutes=2))).done["outbox"] == 1
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


async def test_dead_letters_are_visible_and_retryable(services: Services, smtp_port: int,
                                                      api: httpx.AsyncClient) -> None:
    await _enqueue_email(services)
    worker = Worker(services, email=EmailTransport(None, "crm@example.com"))
    moment = services.clock.now()
    for _ in range(store.MAX_ATTEMPTS):
        await worker.run_once(moment)
        moment += timedelta(days=1)
    dead = (await api.get("/api/outbox", params={"status": "dead"})).json()["items"]
    assert len(dead) == 1
    assert "LOOM_SMTP_URL" in dead[0]["last_error"]
    assert dead[0]["summary"] == "wang@example.com: 欢迎 Welcome"

    retried = await api.post(f"/api/outbox/{dead[0]['id']}/retry")
    assert retried.status_code == 200
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert (await _worker(services, smtp_port).run_once(moment)).done["outbox"] == 1
    finally:
        controller.stop()
    assert (await api.post(f"/api/outbox/{dead[0]['id']}/retry")).status_code == 404


async def test_webhooks_are_signed_and_retried(services: Services,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_HOOK_SECRET", "s3cret")
    calls: list[httpx.Request] = []
    answers = iter([503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(next(answers))

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with services.database.write() as conn:
        await store.enqueue(conn, workspace_id=1, app_id=None, kind="webhook",
                            key="contract-signed:7",
                            payload={"url": "https://erp.example.com/hooks/loom",
                                     "secret_env": "CRM_HOOK_SECRET",
                                     "body": {"event": "contract.signed", "id": 7,
                                              "customer": "华为"}},
                            now=services.clock.now())
    worker = Worker(services, webhooks=WebhookTransport(client))
    start = services.clock.now()
    assert (await worker.run_once(start)).done["outbox"] == 0
    assert (await worker.run_once(start + timedelta(minutes=1))).done["outbox"] == 1
    assert len(calls) == 2
    request = calls[-1]
    body = request.content
    assert json.loads(body) == {"event": "contract.signed", "id": 7, "customer": "华为"}
    timestamp = request.headers["X-Loom-Timestamp"]
    expected = hmac.new(b"s3cret", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert request.headers["X-Loom-Signature"] == f"sha256={expected}"
    assert request.headers["X-Loom-Delivery"] == "contract-signed:7"
    await client.aclose()


async def test_two_workers_never_deliver_one_item_twice(services: Services) -> None:
    async with services.database.write() as conn:
        for n in range(30):
            await store.enqueue(conn, workspace_id=1, app_id=None, kind="webhook",
                                key=f"hook:{n}", payload={"url": f"https://x.test/{n}",
                                                          "body": {"n": n}},
                                now=services.clock.now())
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["X-Loom-Delivery"])
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    first = Worker(services, webhooks=WebhookTransport(client))
    second = Worker(services, webhooks=WebhookTransport(client))
    reports = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(r.done["outbox"] for r in reports) == 30
    assert sorted(seen) == sorted(f"hook:{n}" for n in range(30))
    await client.aclose()
