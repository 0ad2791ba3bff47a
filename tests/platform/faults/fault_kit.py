"""What the fault tests share: ``loom`` commands run as separate processes (a signal
reaches them as it would on a server), and an SMTP server that is slow to accept."""

from __future__ import annotations

import asyncio
import os
import sys
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

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


def loom_env(services: Services, **more: str) -> dict[str, str]:
    return {**os.environ, "LOOM_DATABASE_URL": services.settings.resolved_database_url(),
            "LOOM_DATA_DIR": str(services.settings.data_dir), "LOOM_LOCALE": "en",
            "LOOM_LOG_JSON": "false", **more}


async def loom_process(services: Services, tmp_path: Path, *args: str,
                       **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loom.platform.cli", *args, env=loom_env(services, **env),
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
