"""What every storage test shares: the first administrator, the moment tests start at, which
kinds of database run, new PostgreSQL databases per test (dropped at the end of the
session), and fast copies of a prepared database."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from database_dropper import DatabaseDropper
from sqlalchemy.engine import make_url

from loom.platform.bootstrap import bootstrap
from loom.platform.clock import FixedClock
from loom.platform.settings import Settings, async_database_url
from loom.platform.storage.database import Database, create_engine
from loom.platform.storage.migrate import upgrade

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
        # a commit need not wait for its WAL to reach the disk: tests never crash the server
        await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await admin.close()
    created_pg_databases.append(name)
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


dropper = DatabaseDropper(_asyncpg_dsn(POSTGRES_URL))


def release_database(url: str) -> None:
    """A test is done with the database at ``url``: a PostgreSQL one is dropped soon (a
    SQLite file goes with the test's temporary folder)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        dropper.release(str(parsed.database))


def drop_remaining_databases() -> None:
    """Drop every PostgreSQL database this process made and has not released yet."""
    dropper.finish(created_pg_databases)


_templates: dict[str, str] = {}


async def migrated_template(kind: str, tmp_path_factory: Any) -> str:
    """A database with the platform tables and the first admin, made once per session."""
    if kind in _templates:
        return _templates[kind]
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('template')}/template.db"
    else:
        url = await create_pg_database()
    database = Database(create_engine(url, pool_size=1))
    await upgrade(database)
    settings = Settings(admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    await bootstrap(database, settings, FixedClock(START))
    await database.dispose()
    _templates[kind] = url
    return url


async def copy_database(template: str, directory: object) -> str:
    """A copy of the (closed) database at ``template``: a file copy or a PostgreSQL
    ``CREATE DATABASE … TEMPLATE``, both much faster than building it again."""
    if template.startswith("sqlite"):
        target = f"{directory}/loom.db"
        shutil.copyfile(make_url(template).database, target)
        return f"sqlite+aiosqlite:///{target}"
    return await create_pg_database(template=make_url(template).database)


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of a refused request, checked for its shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:loom:problem:")
    assert body["title"] and body["detail"] and isinstance(body["errors"], list)
    assert "Traceback" not in response.text
    return body


async def finished(client: httpx.AsyncClient, operation: dict[str, Any]) -> dict[str, Any]:
    """The operation once it has ended, read as a client follows it: the server is asked to
    answer when it ends (``wait``), so no guess at how long it takes; five minutes at most."""
    async with asyncio.timeout(300):
        while operation["status"] in ("queued", "running"):
            response = await client.get(operation["url"], params={"wait": "30"})
            assert response.status_code == 200, response.text
            operation = response.json()
    return operation


# --- changing records the way a client must: with the version it read --------------------

def if_match(record: dict[str, Any] | int) -> dict[str, str]:
    """The If-Match header that changes or deletes ``record`` (or that version) as read."""
    version = record if isinstance(record, int) else record["version"]
    return {"If-Match": f'"{version}"'}


async def read_version(client: httpx.AsyncClient, url: str) -> int:
    """The version of the record at ``url``, as ``client`` reads it now."""
    response = await client.get(url)
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


async def patch_read(client: httpx.AsyncClient, url: str, json: Any, *,
                     reader: httpx.AsyncClient | None = None,
                     headers: dict[str, str] | None = None) -> httpx.Response:
    """PATCH ``url`` with ``json`` and the version just read from it (by ``reader``, default
    the same client), as a form that loads the record and saves it does."""
    version = await read_version(reader or client, url)
    return await client.patch(url, json=json, headers={**if_match(version), **(headers or {})})


async def delete_read(client: httpx.AsyncClient, url: str, *,
                      reader: httpx.AsyncClient | None = None,
                      headers: dict[str, str] | None = None) -> httpx.Response:
    """DELETE ``url`` with the version just read from it (by ``reader``)."""
    version = await read_version(reader or client, url)
    return await client.delete(url, headers={**if_match(version), **(headers or {})})


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
