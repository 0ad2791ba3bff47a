"""A list of 100,000 leads scrolled deep: the grid fetches page after page by keyset cursor,
in order, and the rows arrive complete and in order — nothing counts them all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from browser_kit import Visitor
from playwright.sync_api import expect
from sqlalchemy import literal, select

from bench.synthetic_rows import fill, padded
from loom.platform.clock import FixedClock
from loom.platform.security.users import actor_from_row
from loom.platform.services import build_services
from loom.platform.settings import Settings
from loom.platform.storage.database import Database, create_engine
from loom.platform.storage.system_tables import users

ROWS = 100_000
DEEP = 3_000  # rows scrolled past: thirty pages


async def _many_leads(url: str) -> None:
    services = build_services(Settings(database_url=url), FixedClock(datetime.now(UTC)),
                              Database(create_engine(url, pool_size=1)))
    try:
        async with services.database.write() as conn:
            admin = (await conn.execute(select(users).where(users.c.is_admin))).mappings().first()
            runtime, _ = await services.apps.enter(conn, actor_from_row(admin), "crm")
            await fill(conn, runtime.tables["lead"], ROWS, {
                "name": lambda n: literal("长列表线索 ").concat(padded(n, 6)),
                "region": lambda n: literal("east_china"),
                "status": lambda n: literal("new")}, services.clock.now())
    finally:
        await services.database.dispose()


@pytest.fixture(scope="module")
def prepare_world():
    return _many_leads


def test_scrolling_deep_into_a_long_list_keeps_every_row_in_order(visitor: Visitor) -> None:
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/list/lead")
    # the count stops at its cap: nothing scans all the rows
    expect(page.get_by_test_id("list.count")).to_contain_text("10,000+")
    # all made in the same moment: the newest-first order falls back to the id
    first = page.locator(".ag-row[row-index='0'] [col-id=name]")
    expect(first).to_have_text("长列表线索 000001")
    viewport = page.locator(".ag-grid-viewport")
    row = page.locator(f".ag-row[row-index='{DEEP}'] [col-id=name]")
    for _ in range(200):
        if row.count():
            break
        viewport.evaluate("element => element.scrollTop = element.scrollHeight")
        page.wait_for_timeout(150)
    expect(row).to_have_text(f"长列表线索 {DEEP + 1:06d}")
    # the neighbours are there too, in order: no page was skipped or fetched twice
    for index in (DEEP - 1, DEEP - 100, DEEP - 101):
        cell = page.locator(f".ag-row[row-index='{index}'] [col-id=name]")
        if cell.count():
            assert cell.inner_text() == f"长列表线索 {index + 1:06d}"
    visitor.shoot("long-list")
