"""What every storage test shares: the first administrator, the moment tests start at, which
kinds of database run, new PostgreSQL databases per test (dropped at the end of the
session), and fast copies of a prepared database."""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from loom.platform.settings import async_database_url

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"
START = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)  # a Monday, 09:30 in Shanghai

DATABASES = [name.strip() for name in
             os.environ.get("LOOM_TEST_DATABASES", "sqlite,postgresql").split(",") if name.strip()]
POSTGRES_URL = async_database_url(
    os.environ.get("LOOM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
created_pg_databases: list[str] = []


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def create_pg_database(template: str | None = None) -> str:
    """A new PostgreSQL database for one test; dropped when the session ends."""
    name = f"loom_t_{RUN_ID}_{len(created_pg_databases)}"
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        suffix = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await admin.close()
    created_pg_databases.append(name)
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


async def drop_pg_databases(names: list[str]) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()



async def copy_database(template: str, directory: object) -> str:
    """A copy of the (closed) database at ``template``: a file copy or a PostgreSQL
    ``CREATE DATABASE … TEMPLATE``, both much faster than building it again."""
    if template.startswith("sqlite"):
        target = f"{directory}/loom.db"
        shutil.copyfile(make_url(template).database, target)
        return f"sqlite+aiosqlite:///{target}"
    return await create_pg_database(template=make_url(template).database)


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of a refused request, checked for its shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:loom:problem:")
    assert body["title"] and body["detail"] and isinstance(body["errors"], list)
    assert "Traceback" not in response.text
    return body


async def person(api: httpx.AsyncClient, services: Any, email: str,
                 **fields: Any) -> tuple[int, dict[str, str]]:
    """A new user of the workspace (``fields``: ``is_admin``, ``locale``, ``manager`` …):
    their id and the headers that authenticate them."""
    from loom.platform.security.tokens import issue_token

    response = await api.post("/api/users", json={"email": email,
                                                  "name": email.split("@")[0], **fields})
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    async with services.database.write() as conn:
        token = await issue_token(conn, user_id, services.clock)
    return user_id, {"Authorization": f"Bearer {token}"}
