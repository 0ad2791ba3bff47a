"""``loom backup`` and ``loom restore`` as an admin runs them (separate processes), on both
databases: a CRM with demo data, flows, tasks, audit rows and an uploaded file comes back
whole in an empty database; a backup taken while people keep writing is of one moment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from backup_kit import (
    count,
    crm_with_everything,
    empty_database_like,
    env_for,
    everything,
    files_under,
    keeps_working,
)

from loom.platform.services import Services


def loom(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loom.platform.cli", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=180)


async def test_a_restore_gives_back_everything(api: httpx.AsyncClient, services: Services,
                                               shelf: Path, tmp_path: Path) -> None:
    made = await crm_with_everything(api, services)
    source = services.settings.resolved_database_url()
    data_dir = services.settings.data_dir
    before = await everything(source)
    for table, least in {"flow_instances": 1, "tasks": 1, "record_audit": 100,
                         "metadata_versions": 1, "stored_files": 1, "users": 10}.items():
        rows = next(rows for name, rows in before.items() if name.endswith(f".{table}"))
        assert len(rows) >= least, table

    archive = tmp_path / "loom.tar.gz"
    written = loom(env_for(source, data_dir), "backup", str(archive), cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert "backup written to" in written.stdout and "1 files" in written.stdout
    assert archive.stat().st_mode & 0o777 == 0o600

    target, target_dir = await empty_database_like(source, tmp_path), tmp_path / "restored"
    restored = loom(env_for(target, target_dir), "restore", str(archive), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr

    after = await everything(target)
    assert sorted(after) == sorted(before)
    for table, rows in before.items():
        assert after[table] == rows, f"{table} differs after the restore"
    assert files_under(target_dir / "files") == files_under(data_dir / "files")
    key = made["file"]["key"]
    assert [name for name in files_under(target_dir / "files") if name.endswith(key)]

    await keeps_working(target, target_dir, services.clock)

    again = loom(env_for(target, target_dir), "restore", str(archive), cwd=tmp_path)
    assert again.returncode == 1
    assert "is not empty (1 workspace(s)); restore into a new, empty database" in again.stderr


async def test_a_backup_while_people_write_is_of_one_moment(
        api: httpx.AsyncClient, services: Services, shelf: Path, tmp_path: Path) -> None:
    """Each new customer is a row in the app's table and its audit row in the platform's,
    written in one transaction: a backup that copied the two at different moments would
    have customers without their audit row, or the reverse."""
    import asyncio

    await crm_with_everything(api, services)
    source = services.settings.resolved_database_url()
    customers = "SELECT count(*) FROM {table}"
    table = ("crm__customer" if source.startswith("postgresql")
             else "default__crm__customer")
    table = f"ws_default.{table}" if source.startswith("postgresql") else table
    first = await count(source, customers.format(table=table))
    archive = tmp_path / "busy.tar.gz"
    backup = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loom.platform.cli", "backup", str(archive),
        env=env_for(source, services.settings.data_dir), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    written = 0
    async with asyncio.timeout(120):
        while backup.returncode is None:
            response = await api.post("/api/apps/crm/records/customer", json={
                "name": f"忙时客户{written}有限公司", "phone": f"139{written:08d}",
                "region": "east_china", "industry": "manufacturing"})
            assert response.status_code == 201, response.text
            written += 1
            await asyncio.sleep(0)
        _, errors = await backup.communicate()
    assert backup.returncode == 0, errors.decode()
    assert written >= 5

    target = await empty_database_like(source, tmp_path)
    restored = loom(env_for(target, tmp_path / "restored"), "restore", str(archive),
                    cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    kept = await count(target, customers.format(table=table))
    audited = await count(target, "SELECT count(*) FROM record_audit WHERE entity = "
                                  "'customer' AND action = 'create'")
    assert first < kept < first + written, (first, kept, written)
    assert audited == kept
