"""First start: the default workspace and the first administrator."""

from __future__ import annotations

from dataclasses import dataclass

from loom.platform.clock import Clock
from loom.platform.security.passwords import generate_password
from loom.platform.security.users import (
    DEFAULT_WORKSPACE,
    NewUser,
    count_users,
    create_user,
    ensure_workspace,
)
from loom.platform.settings import Settings
from loom.platform.storage.database import Database


@dataclass
class Bootstrapped:
    workspace_id: int
    admin_email: str | None = None
    generated_password: str | None = None


async def bootstrap(database: Database, settings: Settings, clock: Clock) -> Bootstrapped:
    """Create the default workspace, and an admin when there is no user yet
    (LOOM_ADMIN_EMAIL / LOOM_ADMIN_PASSWORD, or a generated password shown once)."""
    async with database.write() as conn:
        workspace_id = await ensure_workspace(conn, DEFAULT_WORKSPACE, clock, "Default")
        if await count_users(conn):
            return Bootstrapped(workspace_id)
        email = settings.admin_email or "admin@example.com"
        password = settings.admin_password
        generated = None
        if not password:
            password = generated = generate_password()
        await create_user(conn, workspace_id, NewUser(email=email, name="Administrator",
                                                      password=password, is_admin=True),
                          clock)
    return Bootstrapped(workspace_id, email, generated)
