"""``loom import`` killed outright (SIGKILL) half-way, on both databases: what it had
committed is whole — the first rows of the file, each with its audit row, nothing half
written — and running the same import again with ``--key`` completes it without a
duplicate. Bounded in time."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import sys
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

from loom.platform.services import Services
from loom.platform.storage.system_tables import record_audit

ROWS = 1200


def customers_file(folder: Path) -> Path:
    path = folder / "customers.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "region"])
        for number in range(ROWS):
            writer.writerow([f"C{number:05d}", f"导入客户{number:05d}有限公司", "east_china"])
    return path


async def imported(services: Services) -> list[str]:
    table = "ws_default.crm__customer" if services.database.is_postgres \
        else "default__crm__customer"
    async with services.database.read() as conn:
        return [code for (code,) in await conn.execute(
            text(f"SELECT code FROM {table} WHERE code LIKE 'C%' ORDER BY code"))]


async def run_import(services: Services, tmp_path: Path, *args: str
                     ) -> asyncio.subprocess.Process:
    env = {**os.environ, "LOOM_DATABASE_URL": services.settings.resolved_database_url(),
           "LOOM_DATA_DIR": str(services.settings.data_dir), "LOOM_LOCALE": "en"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loom.platform.cli", "import", "crm", "customer",
        str(customers_file(tmp_path)), *args, env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_a_killed_import_leaves_whole_batches_and_completes_on_rerun(
        api: httpx.AsyncClient, services: Services, tmp_path: Path) -> None:
    assert (await api.post("/api/apps", json={"slug": "crm", "template": "crm"})
            ).status_code == 201
    first = await run_import(services, tmp_path)
    async with asyncio.timeout(120):
        while True:  # until some batches are in, then the process dies without a word
            if len(await imported(services)) >= 50 or first.returncode is not None:
                break
            await asyncio.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    await asyncio.wait_for(first.wait(), timeout=30)
    assert first.returncode == -signal.SIGKILL

    kept = await imported(services)
    assert 50 <= len(kept) < ROWS, len(kept)
    assert kept == [f"C{number:05d}" for number in range(len(kept))]  # the file's first rows
    async with services.database.read() as conn:
        audited = await conn.scalar(select(func.count()).select_from(record_audit).where(
            record_audit.c.entity == "customer", record_audit.c.action == "create"))
    assert audited == len(kept)  # each record with its audit row: no half-written batch

    again = await run_import(services, tmp_path, "--key", "code")
    out, errors = await asyncio.wait_for(again.communicate(), timeout=300)
    assert again.returncode == 0, errors.decode()
    assert f"imported {ROWS:,} rows: {ROWS - len(kept):,} created, {len(kept):,} updated, " \
           "0 refused" in out.decode()
    assert await imported(services) == [f"C{number:05d}" for number in range(ROWS)]
