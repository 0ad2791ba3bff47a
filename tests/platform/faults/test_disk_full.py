"""The disk holding LOOM_DATA_DIR full, on both databases: an upload is refused with a
clear 507 (nothing kept, no half file), and the rest goes on — records are written, and
once there is room again uploads are kept. The disk is a real one: a small tmpfs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fixture_kit import problem_of
from sqlalchemy import func, select

from loom.platform.services import Services
from loom.platform.storage.system_tables import stored_files

FILES = "/api/apps/crm/files/contract/attachments"
DISK = 512 * 1024


def pdf(size: int) -> bytes:
    return b"%PDF-1.4\n" + b"0" * (size - 16) + b"\n%%EOF\n"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB file system of its own (mounting needs root, as CI runs)."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(folder)],
                   check=True, timeout=30)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, timeout=30)


async def test_an_upload_to_a_full_disk_is_refused_and_nothing_else_breaks(
        api: httpx.AsyncClient, services: Services, small_disk: Path) -> None:
    services.settings.data_dir = small_disk
    assert (await api.post("/api/apps", json={"slug": "crm", "template": "crm"})
            ).status_code == 201
    first = await api.post(FILES, files={"file": ("a.pdf", pdf(20_000), "application/pdf")})
    assert first.status_code == 201, first.text
    filler = small_disk / "filler"
    with filler.open("wb") as handle:  # the disk fills up, up to the last 100 KB or so
        handle.write(b"\0" * (DISK - 20_000 - 100_000))

    refused = await api.post(FILES, files={"file": ("big.pdf", pdf(300_000), "application/pdf")},
                             headers={"Accept-Language": "en"})
    body = problem_of(refused, 507)
    assert body["detail"].startswith("The server has no room left to keep files; nothing "
                                     "was kept")
    chinese = await api.post(FILES, files={"file": ("大.pdf", pdf(300_000), "application/pdf")},
                             headers={"Accept-Language": "zh-CN"})
    assert "服务器已没有空间保存文件" in problem_of(chinese, 507)["detail"]
    assert list((small_disk / "files" / "incoming").iterdir()) == []  # no half file
    async with services.database.read() as conn:
        assert await conn.scalar(select(func.count()).select_from(stored_files)) == 1

    customer = await api.post("/api/apps/crm/records/customer", json={"name": "无锡澄星有限公司"})
    assert customer.status_code == 201, customer.text
    small = await api.post(FILES, files={"file": ("s.pdf", pdf(10_000), "application/pdf")})
    assert small.status_code == 201, small.text  # what fits is still kept

    filler.unlink()  # room again
    again = await api.post(FILES, files={"file": ("big.pdf", pdf(300_000), "application/pdf")})
    assert again.status_code == 201, again.text
    download = await api.get(again.json()["url"])
    assert download.status_code == 200 and download.content == pdf(300_000)
