"""What the fault tests share: ``loom`` commands run as separate processes (a signal
reaches them as it would on a server), and an SMTP server and a webhook receiver that are
slow to answer (a delivery is under way long enough to be cut off)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx

from loom.platform.services import Services

MAILS = 8


class SlowInbox:
    """An SMTP server's handler that takes a second to accept each message."""

    def __init__(self) -> None:
        self.subjects: list[str] = []
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.subjects.append(str(mail["Subject"]))
        self.message_ids.append(str(mail["Message-ID"]))
        await asyncio.sleep(1)
        return "250 OK"


class SlowReceiver:
    """A webhook endpoint (HTTP on 127.0.0.1) that takes a second to answer each POST;
    it notes each delivery's body ``subject`` and ``X-Loom-Delivery`` key as it arrives."""

    def __init__(self) -> None:
        self.subjects: list[str] = []
        self.keys: list[str] = []

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {name.lower(): value for name, _, value in
                   (line.partition(": ") for line in head[1:] if line)}
        body = json.loads(await reader.readexactly(int(headers["content-length"])))
        self.subjects.append(body["subject"])
        self.keys.append(headers["x-loom-delivery"])
        await asyncio.sleep(1)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    async def listen(self, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._answer, "127.0.0.1", port)


def loom_env(services: Services, **more: str) -> dict[str, str]:
    return {**os.environ, "LOOM_DATABASE_URL": services.settings.resolved_database_url(),
            "LOOM_DATA_DIR": str(services.settings.data_dir), "LOOM_LOCALE": "en",
            "LOOM_LOG_JSON": "false", **more}


async def loom_process(services: Services, tmp_path: Path, *args: str,
                       **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loom.platform.cli", *args, env=loom_env(services, **env),
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def loom_server(services: Services, tmp_path: Path, port: int,
                      **env: str) -> asyncio.subprocess.Process:
    """``loom serve`` on ``port`` of an existing workspace, once it answers."""
    server = await loom_process(services, tmp_path, "serve", "--port", str(port),
                                LOOM_FIRST_RUN="blank", **env)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        async with asyncio.timeout(60):
            while True:
                try:
                    if (await client.get("/api/health/live")).status_code == 200:
                        return server
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
