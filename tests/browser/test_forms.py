"""Record forms as people fill them in: a quote with its line items saved in one go, a
field that appears and becomes required, a formula recomputed while typing, the server's
refusal shown in Chinese at its field with everything typed kept, and a save that came
too late (409) offering to reload or re-apply."""

from __future__ import annotations

import re

from browser_kit import LiveServer, Visitor, expect_ok
from playwright.sync_api import Locator, Page, expect

RECORDS = "/api/apps/crm/records"


def _create(server: LiveServer, entity: str, **values: object) -> dict:
    return expect_ok(server.api().post(f"{RECORDS}/{entity}", json=values))


def _input(page: Page | Locator, testid: str) -> Locator:
    return page.get_by_test_id(testid).locator("input, textarea").first


def _choose(page: Page, testid: str, option: str) -> None:
    """Pick an option of a select (or type-ahead) field by its label."""
    page.get_by_test_id(testid).locator(".el-select__wrapper").click()
    page.get_by_role("option", name=option, exact=True).click()


def _deal(server: LiveServer, name: str) -> dict:
    customer = _create(server, "customer", name=f"{name}的客户", tag="prospect")
    return _create(server, "opportunity", name=name, customer=customer["id"])


def test_a_quote_with_line_items_and_totals_is_saved_in_one_go(visitor: Visitor) -> None:
    server = visitor.server
    _deal(server, "报价表单商机")
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/records/quote/new")
    picker = page.get_by_test_id("quote.opportunity.picker")
    picker.locator(".el-select__wrapper").click()
    picker.locator("input").fill("报价表单")
    page.get_by_role("option", name="报价表单商机").click()
    page.get_by_test_id("quote.items.add").click()
    page.get_by_test_id("quote.items.add").click()
    rows = page.get_by_test_id("quote.items.row")
    expect(rows).to_have_count(2)
    first, second = rows.nth(0), rows.nth(1)
    _input(first, "quote_item.description").fill("实施服务")
    _input(first, "quote_item.quantity").fill("3")
    _input(first, "quote_item.unit_price").fill("19.99")
    _input(first, "quote_item.discount").fill("10")
    expect(first.get_by_test_id("quote_item.amount")).to_have_text("¥53.97")
    # a product not in the catalogue yet is created on the spot, in its own form
    second.get_by_test_id("quote_item.product.picker.new").click()
    dialog = page.locator(".el-dialog").filter(has=page.get_by_test_id("form.product"))
    _input(dialog, "product.name").fill("年度订阅服务")
    _input(dialog, "product.price").fill("1200")
    dialog.get_by_test_id("form.save").click()
    expect(dialog).to_be_hidden()
    expect(second.get_by_test_id("quote_item.product.picker")).to_contain_text("年度订阅服务")
    _input(second, "quote_item.description").fill("年度订阅")
    _input(second, "quote_item.unit_price").fill("1,000")
    expect(second.get_by_test_id("quote_item.amount")).to_have_text("¥1,000.00")
    expect(page.get_by_test_id("quote.total")).to_have_text("¥1,053.97")
    visitor.shoot("form-quote-items")
    page.get_by_test_id("form.save").click()
    expect(page).to_have_url(re.compile(r"/apps/crm/records/quote/\d+$"))
    quote_id = int(page.url.rsplit("/", 1)[1])
    saved = expect_ok(server.api().get(f"{RECORDS}/quote/{quote_id}"))
    assert float(saved["total"]) == 1053.97
    assert [(row["description"], float(row["amount"])) for row in saved["items"]] == [
        ("实施服务", 53.97), ("年度订阅", 1000.0)]
    product = saved["items"][1]["product"]
    assert expect_ok(server.api().get(f"{RECORDS}/product/{product}"))["name"] == "年度订阅服务"


def test_a_conditional_field_appears_and_becomes_required(visitor: Visitor) -> None:
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/records/opportunity/new")
    reason = page.get_by_test_id("opportunity.lost_reason.item")
    expect(page.get_by_test_id("opportunity.stage.item")).to_be_visible()
    expect(reason).to_have_count(0)
    _choose(page, "opportunity.stage", "输单")
    expect(reason).to_be_visible()
    expect(reason).to_have_class(re.compile("is-required"))
    _input(page, "opportunity.name").fill("条件字段商机")
    page.get_by_test_id("form.save").click()
    expect(reason.locator(".el-form-item__error")).to_have_text("输单原因为必填项")
    visitor.shoot("form-conditional-required")
    _choose(page, "opportunity.stage", "初步接洽")
    expect(reason).to_have_count(0)
    expect(_input(page, "opportunity.name")).to_have_value("条件字段商机")


def test_a_formula_recomputes_as_the_user_types(visitor: Visitor) -> None:
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/records/opportunity/new")
    weighted = page.get_by_test_id("opportunity.weighted_amount")
    amount = _input(page, "opportunity.amount")
    amount.press_sequentially("12345.67")
    _input(page, "opportunity.probability").press_sequentially("30")
    expect(weighted).to_have_text("¥3,703.70")
    probability = _input(page, "opportunity.probability")
    probability.press("Backspace")
    probability.press("Backspace")
    probability.press_sequentially("50")
    expect(weighted).to_have_text("¥6,172.84")  # the server's ROUND: half away from zero
    amount.fill("")
    expect(weighted).to_have_text("¥0.00")
    visitor.shoot("form-formula")
    # leaving with unsaved changes asks first; Esc closes the question and keeps the form
    page.get_by_test_id("form.cancel").click()
    question = page.get_by_role("dialog").filter(has_text="有未保存的修改")
    expect(question).to_be_visible()
    page.keyboard.press("Escape")
    expect(question).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/records/opportunity/new$"))
    expect(probability).to_have_value("50")


def test_a_refusal_is_shown_in_chinese_at_its_field_with_the_typed_values_kept(
        visitor: Visitor) -> None:
    server = visitor.server
    _create(server, "customer", code="KH-DUP-1", name="已有客户", tag="prospect")
    visitor.console.expect("422")
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/records/customer/new")
    _input(page, "customer.code").fill("KH-DUP-1")
    _input(page, "customer.name").fill("新客户甲")
    _input(page, "customer.phone").fill("13800001234")
    page.get_by_test_id("customer.name").locator("input").press("Enter")  # Enter submits
    error = page.get_by_test_id("customer.code.item").locator(".el-form-item__error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(re.compile("[\u4e00-\u9fff]"))
    assert "KH-DUP-1" in error.inner_text() or "客户编号" in error.inner_text()
    expect(_input(page, "customer.name")).to_have_value("新客户甲")
    expect(_input(page, "customer.phone")).to_have_value("13800001234")
    visitor.shoot("form-server-error-zh")
    _input(page, "customer.code").fill("KH-NEW-1")
    page.get_by_test_id("form.save").click()
    expect(page).to_have_url(re.compile(r"/apps/crm/records/customer/\d+$"))


def test_a_stale_save_shows_what_changed_and_re_applies_on_the_latest(
        visitor: Visitor) -> None:
    server = visitor.server
    deal = _deal(server, "冲突商机")
    visitor.console.expect("409")
    visitor.sign_in("admin")
    page = visitor.open(f"/apps/crm/records/opportunity/{deal['id']}/edit")
    next_step = _input(page, "opportunity.next_step")
    expect(_input(page, "opportunity.name")).to_have_value("冲突商机")
    next_step.fill("下周上门演示")
    # meanwhile a colleague changes the amount
    expect_ok(server.api().patch(f"{RECORDS}/opportunity/{deal['id']}", json={"amount": 88000},
                                 headers={"If-Match": f'"{deal["version"]}"'}))
    page.get_by_test_id("form.save").click()
    dialog = page.get_by_test_id("form.conflict")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("form.conflict.amount")).to_contain_text("¥88,000.00")
    expect(dialog.get_by_test_id("form.conflict.reload")).to_be_visible()
    visitor.shoot("form-conflict")
    dialog.get_by_test_id("form.conflict.reapply").click()
    expect(page).to_have_url(re.compile(rf"/apps/crm/records/opportunity/{deal['id']}$"))
    saved = expect_ok(server.api().get(f"{RECORDS}/opportunity/{deal['id']}"))
    assert float(saved["amount"]) == 88000 and saved["next_step"] == "下周上门演示"


def test_a_form_fits_a_phone_screen(phone_visitor: Visitor) -> None:
    phone_visitor.sign_in("admin")
    page = phone_visitor.open("/apps/crm/records/quote/new")
    page.get_by_test_id("quote.items.add").click()
    _input(page.get_by_test_id("quote.items.row").first, "quote_item.unit_price").fill("88")
    expect(page.get_by_test_id("quote.total")).to_have_text("¥88.00")
    # the page itself never scrolls sideways; only the line items' table may
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_visitor.shoot("form-quote-phone")


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5c8e2"
    "ad0000000049454e44ae426082")


def test_photos_files_and_a_signature_are_kept_with_the_record(visitor: Visitor) -> None:
    server = visitor.server
    _create(server, "customer", name="签名客户", tag="formal")
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm/records/ticket/new")
    _input(page, "ticket.subject").fill("打印机卡纸")
    picker = page.get_by_test_id("ticket.customer.picker")
    picker.locator(".el-select__wrapper").click()
    picker.locator("input").fill("签名客户")
    page.get_by_role("option", name="签名客户").click()
    _choose(page, "ticket.status", "已解决")
    _input(page, "ticket.solution").fill("更换搓纸轮")
    photos = page.get_by_test_id("ticket.photos")
    photos.locator("input[type=file]").set_input_files(
        [{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
    expect(photos.locator("img")).to_have_attribute("alt", "现场.png")
    # a kind the field does not take is refused before anything is sent
    attachments = page.get_by_test_id("ticket.attachments")
    attachments.locator("input[type=file]").set_input_files(
        [{"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}])
    expect(attachments.get_by_role("alert")).to_contain_text("tool.exe")
    pad = page.get_by_test_id("ticket.signature").locator("canvas")
    pad.evaluate("(canvas) => canvas.scrollIntoView({block: 'center'})")
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 15, box["y"] + 40 + (step % 3) * 12)
    page.mouse.up()
    expect(page.get_by_test_id("ticket.signature.item")).to_be_visible()
    visitor.shoot("form-files-signature")
    page.get_by_test_id("form.save").click()
    expect(page).to_have_url(re.compile(r"/apps/crm/records/ticket/\d+$"))
    saved = expect_ok(server.api().get(f"{RECORDS}/ticket/{page.url.rsplit('/', 1)[1]}"))
    assert [(p["name"], p["type"]) for p in saved["photos"]] == [("现场.png", "image/png")]
    assert saved["attachments"] in (None, [])
    assert saved["signature"]["image"].startswith("data:image/png")
