"""Fixtures of the records API tests."""

from __future__ import annotations

import httpx
import pytest
from lab_app import lab_document
from sqlalchemy import select

from loom.platform.security.tokens import issue_token
from loom.platform.services import Services
from loom.platform.storage.system_tables import users

ADMIN_EMAIL = "admin@example.com"  # the first administrator of tests/conftest.py


@pytest.fixture
async def api(anonymous: httpx.AsyncClient, services: Services) -> httpx.AsyncClient:
    """A client authenticated as the first administrator, with a token issued directly: a
    password check per test (argon2 is slow on purpose) would be much of these tests' run
    time. Logging in itself is tested in test_users_and_auth.py."""
    async with services.database.write() as conn:
        admin_id = await conn.scalar(select(users.c.id).where(users.c.email == ADMIN_EMAIL))
        token = await issue_token(conn, admin_id, services.clock)
    anonymous.headers["Authorization"] = f"Bearer {token}"
    return anonymous


@pytest.fixture
async def lab(api: httpx.AsyncClient) -> httpx.AsyncClient:
    """The admin's client, with the app ``lab`` published."""
    response = await api.post("/api/apps", json={"slug": "lab", "metadata": lab_document()})
    assert response.status_code == 201, response.text
    return api
