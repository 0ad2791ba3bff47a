"""``loom serve`` killed outright (SIGKILL) while it writes a ``_bulk`` of customers, on both
databases: a bulk is all or none, so every bulk is either wholly there — with an audit row
for each of its records — or not there at all; those it acknowledged are all there; and
sending the ones that are missing again, to a server started afresh, completes the set.
Bounded in time."""

from __future__ import annotations

import asyncio
import signal
import time
from contextlib import suppress
from pathlib import Path

import httpx
from fault_kit import loom_server
from fixture_kit import ADMIN_EMAIL, ADMIN_PASSWORD, free_port
from sqlalchemy import func, select, text

from loom.platform.services import Services
from loom.platform.storage.system_tables import record_audit

BULKS, SIZE = 4, 1000


def bulk(number: int) -> list[dict[str, str]]:
    return [{"code": f"B{number}-{row:04d}", "name": f"批量客户 {number}-{row:04d}"}
            for row in range(SIZE)]


async def stored(services: Services) -> dict[int, int]:
    """How many customers of each bulk are stored, and that each has its audit row."""
    table = "ws_default.crm__customer" if services.database.is_postgres \
        else "default__crm__customer"
    async with services.database.read() as conn:
        codes = [code for (code,) in await conn.execute(
            text(f"SELECT code FROM {table} WHERE code LIKE 'B%'"))]
        audited = await conn.scalar(select(func.count()).select_from(record_audit).where(
            record_audit.c.entity == "customer", record_audit.c.action == "create"))
    assert audited == len(codes)  # no record without its audit row, no audit row alone
    counts = {number: 0 for number in range(BULKS)}
    for code in codes:
        counts[int(code[1:code.index("-")])] += 1
    return counts


async def signed_in(client: httpx.AsyncClient) -> None:
    token = await client.post("/api/auth/token",
                              json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert token.status_code == 200, token.text
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"


async def test_a_killed_bulk_is_whole_or_absent_and_completes_when_sent_again(
        api: httpx.AsyncClient, services: Services, tmp_path: Path) -> None:
    assert (await api.post("/api/apps", json={"slug": "crm", "template": "crm"})
            ).status_code == 201
    address = "/api/apps/crm/records/customer/_bulk"
    port = free_port()
    server = await loom_server(services, tmp_path, port)
    acknowledged: list[int] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                     timeout=120) as client:
            await signed_in(client)
            started = time.monotonic()
            first = await client.post(address, json=bulk(0))
            assert first.status_code == 201, first.text
            acknowledged.append(0)
            took = time.monotonic() - started

            async def the_rest() -> None:
                for number in range(1, BULKS):
                    if (await client.post(address, json=bulk(number))).status_code == 201:
                        acknowledged.append(number)

            sending = asyncio.create_task(the_rest())
            await asyncio.sleep(took * 1.5)  # about half-way through the second bulk
            server.send_signal(signal.SIGKILL)
            await asyncio.wait_for(server.wait(), timeout=30)
            with suppress(httpx.TransportError):  # the answer the killed server never gave
                await sending
    finally:
        if server.returncode is None:
            server.kill()
    assert server.returncode == -signal.SIGKILL

    counts = await stored(services)
    assert set(counts.values()) <= {0, SIZE}, counts  # each bulk whole or absent
    assert all(counts[number] == SIZE for number in acknowledged), (counts, acknowledged)
    missing = [number for number, count in counts.items() if count == 0]
    assert missing, counts  # the kill came before the last bulk was through

    again = await loom_server(services, tmp_path, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                     timeout=120) as client:
            await signed_in(client)
            for number in missing:
                sent = await client.post(address, json=bulk(number))
                assert sent.status_code == 201, sent.text
    finally:
        again.kill()
        await asyncio.wait_for(again.wait(), timeout=30)
    assert await stored(services) == {number: SIZE for number in range(BULKS)}
