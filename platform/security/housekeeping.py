"""The worker's sweep of identity leftovers: sign-in counters whose window and lock have
passed, and reset links used or expired a day ago."""

from __future__ import annotations

from datetime import datetime, timedelta

from loom.platform.security.resets import purge_resets
from loom.platform.security.throttle import purge_throttle
from loom.platform.settings import Settings
from loom.platform.storage.database import Database


async def sweep_identity(database: Database, settings: Settings, as_of: datetime) -> int:
    window = timedelta(minutes=settings.login_window_minutes)
    async with database.write() as conn:
        return await purge_throttle(conn, as_of, window) + await purge_resets(conn, as_of)
