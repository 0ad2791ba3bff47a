"""Fixtures of the rule engine tests."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from loom.platform.security.tokens import issue_token
from loom.platform.services import Services
from loom.platform.storage.system_tables import users

ADMIN_EMAIL = "admin@example.com"  # the first administrator of tests/conftest.py


@pytest.fixture
async def api(anonymous: httpx.AsyncClient, services: Services) -> httpx.AsyncClient:
    """A client authenticated as the first administrator, with a token issued directly
    (a password check per test is slow on purpose; logging in is tested elsewhere)."""
    async with services.database.write() as conn:
        admin_id = await conn.scalar(select(users.c.id).where(users.c.email == ADMIN_EMAIL))
        token = await issue_token(conn, admin_id, services.clock)
    anonymous.headers["Authorization"] = f"Bearer {token}"
    return anonymous
