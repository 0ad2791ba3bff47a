"""Running the ``loom`` command as a user runs it: a separate process, against a database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def loom(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOOM_DATABASE_URL": url, "LOOM_ADMIN_EMAIL": "boss@example.com",
           "LOOM_ADMIN_PASSWORD": "boss-password", "LOOM_LOCALE": "en"}
    return subprocess.run([sys.executable, "-m", "loom.platform.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
