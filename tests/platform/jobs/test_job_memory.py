"""On PostgreSQL a job computes with the memory of ``LOOM_JOB_WORK_MEM`` for its sorts and
hashes — set for the job's own transaction only, never leaking into the pool — and the
setting itself only ever holds a size."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from shop_app import bulk, publish, run
from sqlalchemy import text

import loom.platform.jobs.runner as runner
from loom.platform.services import Services
from loom.platform.settings import Settings


async def test_the_job_computes_with_its_own_memory_and_leaves_none_behind(
        api: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    original = runner.stage_rfm

    async def watching(conn: Any, *args: Any, **kwargs: Any) -> Any:
        if conn.dialect.name == "postgresql":
            seen.append(await conn.scalar(text("SHOW work_mem")))
        else:
            seen.append("n/a")
        return await original(conn, *args, **kwargs)

    monkeypatch.setattr(runner, "stage_rfm", watching)
    await publish(api)
    [customer] = await bulk(api, "customer", [{"code": "A"}])
    await bulk(api, "order", [{"customer": customer["id"], "order_date": "1998-06-30",
                               "amount": "10.00"}])

    assert (await run(api, "1998-07-01")).json()["status"] == "done"

    if services.database.is_postgres:
        assert seen == [services.settings.job_work_mem] == ["256MB"]
        for _ in range(3):  # every pooled connection is back to the server's own value
            async with services.database.read() as conn:
                assert await conn.scalar(text("SHOW work_mem")) != "256MB"
    else:
        assert seen == ["n/a"]


@pytest.mark.parametrize("value", ["64", "0MB", "1GB; DROP TABLE users", "64 MB", "-1kB"])
def test_only_a_size_is_accepted(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(job_work_mem=value)
    assert Settings(job_work_mem="64MB").job_work_mem == "64MB"
