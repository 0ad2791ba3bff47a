"""Lists and kanban boards as people use them: search, the filter builder, columns that
stay as the reader left them, saved views, bulk changes, export, and cards dragged between
columns through the write pipeline."""

from __future__ import annotations

import re
from pathlib import Path

from browser_kit import LiveServer, Visitor, drag, expect_ok
from playwright.sync_api import Page, expect

LEADS = "/api/apps/crm/records/lead"


def _lead(server: LiveServer, **values: object) -> dict:
    return expect_ok(server.api().post(LEADS, json=values))


def _rows(page: Page, count: int) -> list[str]:
    """The names in the grid's rows, in order, once it shows ``count`` rows and has filled
    them (a page of an infinite list draws its rows before their values arrive)."""
    cells = page.locator(".ag-row [col-id=name]")
    expect(cells).to_have_count(count)
    for _ in range(100):
        names = cells.all_inner_texts()
        if all(name.strip() for name in names):
            break
        page.wait_for_timeout(100)
    return names


def test_search_and_filter_builder_narrow_a_list(visitor: Visitor) -> None:
    server = visitor.server
    _lead(server, name="筛选甲", company="甲公司", region="east_china", source="website")
    _lead(server, name="筛选乙", company="乙公司", region="north_china", source="referral")
    _lead(server, name="筛选丙", company="丙公司", region="south_china", source="website")
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/list/lead")
    page.get_by_test_id("list.search").fill("筛选")
    expect(page.locator(".ag-row [col-id=name]").first).to_be_visible()
    expect(page.get_by_test_id("list.count")).to_contain_text("3")
    # region is any of 华东区/华南区, and source is 官网: built by clicking, never typed JSON
    page.get_by_test_id("list.filter").click()
    page.get_by_test_id("filter.add-row").click()
    page.get_by_test_id("filter.row.0.field").click()
    page.get_by_role("option", name="区域", exact=True).click()
    page.get_by_test_id("filter.row.0.value").locator(".el-select").click()
    page.get_by_role("option", name="华东区").click()
    page.get_by_role("option", name="华南区").click()
    page.get_by_test_id("filter-builder.apply").click()
    expect(page.get_by_test_id("list.count")).to_contain_text("2")
    assert sorted(_rows(page, 2)) == ["筛选丙", "筛选甲"]
    expect(page.get_by_test_id("list.filter")).to_contain_text("1")
    visitor.shoot("list-filtered")


def test_columns_and_sort_stay_as_the_reader_left_them(visitor: Visitor) -> None:
    visitor.sign_in("li")
    page = visitor.open("/apps/crm/list/lead")
    expect(page.locator(".ag-header-cell[col-id=company]")).to_be_visible()
    page.get_by_test_id("list.columns").click()
    page.get_by_test_id("list.columns.company").click()
    expect(page.locator(".ag-header-cell[col-id=company]")).to_have_count(0)
    page.wait_for_timeout(1200)  # the column state is kept after a short pause
    page.reload()
    expect(page.locator(".ag-header-cell[col-id=name]")).to_be_visible()
    expect(page.locator(".ag-header-cell[col-id=company]")).to_have_count(0)
    kept = expect_ok(visitor.server.api("li").get("/api/me/preferences",
                                                  params={"prefix": "grid/crm/entity/lead"}))
    columns = kept["items"]["grid/crm/entity/lead"]["columns"]
    assert {c["colId"]: c["hide"] for c in columns}["company"] is True


def test_a_saved_view_keeps_the_filter_and_opens_again(visitor: Visitor) -> None:
    server = visitor.server
    _lead(server, name="保存视图甲", region="northeast_china")
    _lead(server, name="保存视图乙", region="east_china")
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/list/lead")
    page.get_by_test_id("list.search").fill("保存视图")
    expect(page.get_by_test_id("list.count")).to_contain_text("2")
    page.get_by_test_id("list.filter").click()
    page.get_by_test_id("filter.add-row").click()
    page.get_by_test_id("filter.row.0.field").click()
    page.get_by_role("option", name="区域", exact=True).click()
    page.get_by_test_id("filter.row.0.value").locator(".el-select").click()
    page.get_by_role("option", name="东北区").click()
    page.get_by_test_id("filter-builder.apply").click()
    expect(page.get_by_test_id("list.count")).to_contain_text("1")
    page.get_by_test_id("saved-views").click()
    page.get_by_test_id("saved-views.save").click()
    page.get_by_role("dialog").get_by_role("textbox").fill("东北线索")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"saved=\d+"))
    saved = expect_ok(server.api().get("/api/apps/crm/saved-views",
                                       params={"base": "entity:lead"}))["items"]
    assert [view["label"] for view in saved] == ["东北线索"]
    assert saved[0]["filter"] == {"in": [{"var": "region"}, ["northeast_china"]]}
    assert saved[0]["q"] == "保存视图"
    page.goto(f"{server.url}/apps/crm/list/lead?saved={saved[0]['id']}")
    expect(page.get_by_test_id("list.count")).to_contain_text("1")
    assert _rows(page, 1) == ["保存视图甲"]


def test_selected_rows_are_assigned_in_bulk(visitor: Visitor) -> None:
    server = visitor.server
    made = [_lead(server, name=f"批量分配{n}", region="east_china") for n in range(3)]
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/list/lead")
    page.get_by_test_id("list.search").fill("批量分配")
    expect(page.get_by_test_id("list.count")).to_contain_text("3")
    _rows(page, 3)
    boxes = page.locator(".ag-row .ag-selection-checkbox")
    boxes.nth(0).click()
    expect(page.get_by_test_id("bulk")).to_contain_text("1")  # the bar moves the grid down
    boxes.nth(1).click()
    expect(page.get_by_test_id("bulk")).to_contain_text("2")
    page.get_by_test_id("bulk.assign").click()
    page.get_by_test_id("bulk.value").locator(".el-select").click()
    page.keyboard.type("李娜")
    page.get_by_role("option", name="李娜").click()
    page.get_by_test_id("bulk.apply").click()
    expect(page.get_by_test_id("bulk")).to_have_count(0)
    owners = [expect_ok(server.api().get(f"{LEADS}/{lead['id']}"))["owner"] for lead in made]
    li = server.cast.users["li"]
    assert sorted(owner == li for owner in owners) == [False, True, True]


def test_export_downloads_what_the_list_shows(visitor: Visitor) -> None:
    _lead(visitor.server, name="导出线索", company="导出公司", region="east_china")
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/list/lead")
    page.get_by_test_id("list.search").fill("导出线索")
    expect(page.get_by_test_id("list.count")).to_contain_text("1")
    page.get_by_test_id("list.export").click()
    with page.expect_download() as started:
        page.get_by_role("menuitem", name="导出 CSV").click()
    text = Path(started.value.path()).read_text(encoding="utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 2 and "导出公司" in lines[1]


def test_a_kanban_move_is_an_update_and_a_refused_one_snaps_back(visitor: Visitor) -> None:
    server = visitor.server
    api = server.api()
    customer = expect_ok(api.post("/api/apps/crm/records/customer",
                                  json={"code": "K-1", "name": "看板客户"}))
    contact = expect_ok(api.post("/api/apps/crm/records/contact",
                                 json={"name": "看板联系人", "customer": customer["id"]}))
    ready = expect_ok(api.post("/api/apps/crm/records/opportunity", json={
        "name": "可推进的商机", "customer": customer["id"], "contact": contact["id"],
        "source": "website", "stage": "initial_contact", "amount": 1000}))
    bare = expect_ok(api.post("/api/apps/crm/records/opportunity", json={
        "name": "缺少信息的商机", "customer": customer["id"], "stage": "initial_contact",
        "amount": 500}))
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/views/opportunity_kanban")
    target = page.get_by_test_id("kanban.lane.needs_analysis").locator(".cards")
    drag(page, page.get_by_test_id(f"kanban.card.{ready['id']}"), target)
    expect(page.get_by_test_id("kanban.lane.needs_analysis")
           .get_by_test_id(f"kanban.card.{ready['id']}")).to_be_visible()
    # the card moves at once; the saved move is announced
    expect(page.locator(".el-message").filter(has_text="需求分析")).to_be_visible()
    moved = expect_ok(api.get(f"/api/apps/crm/records/opportunity/{ready['id']}"))
    assert moved["stage"] == "needs_analysis" and moved["version"] == ready["version"] + 1
    # the stage SOP: a contact and a source before leaving 初步接洽 — refused, back it goes
    visitor.console.expect("422")
    drag(page, page.get_by_test_id(f"kanban.card.{bare['id']}"), target)
    expect(page.locator(".el-message--error")).to_be_visible()
    expect(page.get_by_test_id("kanban.lane.initial_contact")
           .get_by_test_id(f"kanban.card.{bare['id']}")).to_be_visible()
    unchanged = expect_ok(api.get(f"/api/apps/crm/records/opportunity/{bare['id']}"))
    assert unchanged["stage"] == "initial_contact"
    visitor.shoot("kanban")
