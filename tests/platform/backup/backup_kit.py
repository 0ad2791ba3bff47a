"""What the backup tests share: a CRM with data of every kind the platform keeps, a new
empty database of the same kind, and everything a database holds, read for comparison."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
from fixture_kit import create_pg_database, finished
from sqlalchemy import MetaData, inspect, select, text
from sqlalchemy.engine import Connection

from loom.platform.services import Services
from loom.platform.storage.database import create_engine

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


async def crm_with_everything(api: httpx.AsyncClient, services: Services) -> dict[str, Any]:
    """The CRM with its (small) demo data, a flow waiting on an approval task, audit rows,
    a rule's task and an uploaded contract scan; what was made, by name."""
    created = await api.post("/api/apps", json={
        "slug": "crm", "template": "crm", "demo_data": True, "demo_seed": 3,
        "demo_as_of": "2026-11-30T02:00:00+00:00"})
    assert created.status_code == 201, created.text
    done = await finished(api, created.json()["demo"]["operation"])
    assert done["status"] == "succeeded", done
    customer = await api.post("/api/apps/crm/records/customer",
                              json={"name": "南京星河电子有限公司"})
    assert customer.status_code == 201, customer.text
    upload = await api.post("/api/apps/crm/files/contract/attachments",
                            files={"file": ("合同扫描.pdf", PDF, "application/pdf")})
    assert upload.status_code == 201, upload.text
    contract = await api.post("/api/apps/crm/records/contract", json={
        "title": "服务器采购合同", "customer": customer.json()["id"], "amount": 60000,
        "status": "draft", "attachments": [upload.json()]})
    assert contract.status_code == 201, contract.text
    url = f"/api/apps/crm/records/contract/{contract.json()['id']}/actions/submit"
    submitted = await api.post(url, json={})
    assert submitted.status_code == 200, submitted.text
    contract = contract.json()
    return {"contract": contract["id"], "file": upload.json()}


async def empty_database_like(url: str, folder: Path) -> str:
    """A new, empty database of the kind ``url`` is."""
    if url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{folder}/restored.db"
    return await create_pg_database()


def _everything(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    inspector = inspect(conn)
    schemas = [None] if conn.dialect.name == "sqlite" else [
        name for name in inspector.get_schema_names()
        if name == "public" or name.startswith("ws_")]
    metadata = MetaData()
    for schema in schemas:
        metadata.reflect(conn, schema=None if schema == "public" else schema)
    for table in metadata.tables.values():
        if not table.name.startswith("sqlite_"):
            order = [column for column in table.primary_key.columns] or list(table.c)
            rows = conn.execute(select(table).order_by(*order)).all()
            found[f"{table.schema or ''}.{table.name}"] = [tuple(row) for row in rows]
    return found


async def everything(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the platform's and the apps'), by table, in key order."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_everything)
    finally:
        await engine.dispose()


async def count(url: str, sql: str) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text(sql)) or 0)
    finally:
        await engine.dispose()


def files_under(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def env_for(url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "LOOM_DATABASE_URL": url, "LOOM_DATA_DIR": str(data_dir),
            "LOOM_LOCALE": "en"}



async def keeps_working(url: str, data_dir: Path, clock: Any) -> None:
    """The restored database takes new work: a user, a record (new ids, past the restored
    ones), an upload — and serves the file restored."""
    from fixture_kit import ADMIN_EMAIL
    from sqlalchemy import select as select_

    from loom.platform.api.app import create_app
    from loom.platform.security.tokens import issue_token
    from loom.platform.services import build_services
    from loom.platform.settings import Settings
    from loom.platform.storage.system_tables import users

    services = build_services(Settings(database_url=url, data_dir=data_dir), clock)
    try:
        async with services.database.write() as conn:
            admin = await conn.scalar(select_(users.c.id).where(users.c.email == ADMIN_EMAIL))
            token = await issue_token(conn, admin, clock)
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://loom.test",
                                     headers={"Authorization": f"Bearer {token}"}) as api:
            person = await api.post("/api/users", json={"email": "new@example.com",
                                                        "name": "新同事"})
            assert person.status_code == 201, person.text
            customer = await api.post("/api/apps/crm/records/customer",
                                      json={"name": "恢复后新客户有限公司"})
            assert customer.status_code == 201, customer.text
            upload = await api.post("/api/apps/crm/files/contract/attachments",
                                    files={"file": ("new.pdf", PDF, "application/pdf")})
            assert upload.status_code == 201, upload.text
            contracts = await api.get("/api/apps/crm/records/contract",
                                      params={"limit": "1", "sort": "-id"})
            [attachment] = contracts.json()["items"][0]["attachments"]
            restored_file = await api.get(attachment["url"])
            assert restored_file.status_code == 200 and restored_file.content == PDF
    finally:
        await services.database.dispose()
