"""Helpers of the identity tests: people, sign-ins and clients from other addresses."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from loom.platform.api.app import create_app
from loom.platform.security.tokens import issue_token
from loom.platform.security.users import NewUser, create_user, ensure_workspace
from loom.platform.services import Services
from loom.platform.storage.system_tables import users

ADMIN = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"  # tests/conftest.py
EN = {"accept-language": "en"}


def fields_of(problem: dict[str, Any]) -> list[str | None]:
    return [error["field"] for error in problem["errors"]]


async def add_user(api: httpx.AsyncClient, email: str, password: str | None = None,
                   **extra: Any) -> dict[str, Any]:
    response = await api.post("/api/users", json={"email": email, "name": email.split("@")[0],
                                                  "password": password, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def sign_in(client: httpx.AsyncClient, email: str, password: str,
                  **headers: str) -> httpx.Response:
    return await client.post("/api/auth/token", json={"email": email, "password": password},
                             headers=headers)


async def bearer(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await sign_in(client, email, password)
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


def client_from(services: Services, address: str,
                base_url: str = "http://loom.test") -> httpx.AsyncClient:
    """A client of the same app as if calling from ``address``."""
    transport = httpx.ASGITransport(app=create_app(services=services), client=(address, 4321))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def other_workspace(services: Services) -> dict[str, Any]:
    """A second workspace with an admin and a user, and the admin's token."""
    async with services.database.write() as conn:
        workspace = await ensure_workspace(conn, "other", services.clock, "Other Inc.")
        admin = await create_user(conn, workspace, NewUser(
            email="root@other.example", name="Root", password="other-password-1",
            is_admin=True), services.clock)
        member = await create_user(conn, workspace, NewUser(
            email="member@other.example", name="Member", password="other-password-2"),
            services.clock)
        token = await issue_token(conn, admin["id"], services.clock)
    return {"workspace": workspace, "admin": admin, "member": member,
            "headers": {"authorization": f"Bearer {token}"}}


async def user_id(services: Services, email: str) -> int:
    async with services.database.read() as conn:
        return await conn.scalar(select(users.c.id).where(users.c.email == email))
