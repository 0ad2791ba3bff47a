"""The record page (360°) as salespeople use it: a lead claimed and converted with its
action buttons, an action someone else got to first refused with the server's reason,
the stage path of an opportunity with its guidance and the key information still
missing, the timeline with a follow-up and a field change, sharing, and the same page on
a phone with the actions in a menu."""

from __future__ import annotations

from typing import Any

from browser_kit import LiveServer, Visitor, expect_ok
from playwright.sync_api import expect

RECORDS = "/api/apps/crm/records"


def _lead(server: LiveServer, **values: Any) -> dict[str, Any]:
    return expect_ok(server.api().post(f"{RECORDS}/lead", json={
        "name": "陈晓明", "company": "杭州云启科技有限公司", "phone": "13912345678",
        "region": "east_china", "source": "website", **values}))


def test_a_lead_is_claimed_and_converted_from_its_record_page(visitor: Visitor) -> None:
    server = visitor.server
    lead = _lead(server, name="领取转化", company="领取转化科技")
    visitor.sign_in("zhang")
    page = visitor.open(f"/apps/crm/records/lead/{lead['id']}")
    expect(page.get_by_test_id("record.title")).to_have_text("领取转化")
    # in the pool: claim is open to them; release is not, and says why
    expect(page.get_by_test_id("action.release")).to_be_disabled()
    expect(page.get_by_test_id("action.release.reason")).not_to_be_empty()
    page.get_by_test_id("action.claim").click()
    expect(page.get_by_test_id("header.owner")).to_contain_text("张伟")
    expect(page.get_by_test_id("action.claim")).to_be_disabled()
    page.get_by_test_id("action.convert").click()
    page.get_by_role("button", name="确定").click()  # the action asks first
    expect(page.get_by_test_id("header.status")).to_contain_text("已转化")
    expect(page.get_by_test_id("action.convert")).to_be_disabled()
    converted = expect_ok(server.api().get(f"{RECORDS}/lead/{lead['id']}"))
    assert converted["status"] == "converted" and converted["converted_customer"]
    assert converted["owner"] == server.cast.users["zhang"]
    timeline = page.get_by_test_id("record.timeline")
    expect(timeline.get_by_test_id("timeline.change.status").first).to_contain_text("已转化")
    visitor.shoot("record-lead-converted")


def test_a_refused_action_shows_the_servers_reason(visitor: Visitor) -> None:
    server = visitor.server
    lead = _lead(server, name="抢先领取", company="抢先科技")
    visitor.sign_in("east_manager")  # 王芳 sees her team's leads, in the pool or not
    page = visitor.open(f"/apps/crm/records/lead/{lead['id']}")
    expect(page.get_by_test_id("action.claim")).to_be_enabled()
    # 李娜 claims it while 王芳 still has the page open
    expect_ok(server.api("li").post(f"{RECORDS}/lead/{lead['id']}/actions/claim"))
    visitor.console.expect("409")
    page.get_by_test_id("action.claim").click()
    refusal = page.get_by_test_id("record.refusal")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("李娜")
    # the page reads the record again: the button is now off, with the reason at hand
    expect(page.get_by_test_id("action.claim")).to_be_disabled()
    expect(page.get_by_test_id("action.claim.reason")).not_to_be_empty()
    expect(page.get_by_test_id("header.owner")).to_contain_text("李娜")
    visitor.shoot("record-action-refused")


def test_a_refusal_that_took_the_record_away_is_still_explained(visitor: Visitor) -> None:
    server = visitor.server
    lead = _lead(server, name="被人领走", company="领走科技")
    visitor.sign_in("zhang")  # a rep reaches pool leads and his own only
    page = visitor.open(f"/apps/crm/records/lead/{lead['id']}")
    expect(page.get_by_test_id("action.claim")).to_be_enabled()
    expect_ok(server.api("li").post(f"{RECORDS}/lead/{lead['id']}/actions/claim"))
    visitor.console.expect("409")
    visitor.console.expect("404")
    page.get_by_test_id("action.claim").click()
    expect(page.get_by_test_id("problem.not-found")).to_contain_text("李娜")


def _opportunity(server: LiveServer, **values: Any) -> dict[str, Any]:
    api = server.api()
    customer = expect_ok(api.post(f"{RECORDS}/customer", json={
        "name": "阶段客户", "tag": "prospect", "owner": server.cast.users["zhang"]}))
    contact = expect_ok(api.post(f"{RECORDS}/contact", json={"name": "赵经理",
                                                             "customer": customer["id"]}))
    return expect_ok(api.post(f"{RECORDS}/opportunity", json={
        "name": "阶段商机", "customer": customer["id"], "contact": contact["id"],
        "stage": "initial_contact", "amount": 200000,
        "owner": server.cast.users["zhang"], **values}))


def test_the_stage_path_shows_guidance_and_missing_key_fields(visitor: Visitor) -> None:
    server = visitor.server
    opportunity = _opportunity(server)  # no source yet: 初步接洽 wants one
    visitor.sign_in("zhang")
    page = visitor.open(f"/apps/crm/records/opportunity/{opportunity['id']}")
    path = page.get_by_test_id("stage-path.stage")
    expect(path.get_by_test_id("stage.initial_contact")).to_have_attribute("aria-current",
                                                                           "step")
    details = path.get_by_test_id("stage.details")
    expect(details.get_by_test_id("stage.guidance")).to_contain_text("24 小时内首次电话联系")
    expect(details.get_by_test_id("stage.time-limit")).to_contain_text("3")
    expect(details.get_by_test_id("stage.key.contact")).to_contain_text("赵经理")
    expect(details.get_by_test_id("stage.missing.source")).to_be_visible()
    expect(path.get_by_test_id("stage.missing")).to_contain_text("商机来源")
    expect(details.get_by_test_id("stage.due")).to_be_visible()
    expect(page.get_by_test_id("timeline.created")).to_be_visible()
    expect(page.get_by_test_id("sharing.share")).to_be_visible()
    visitor.shoot("record-stage-path")
    # the next stage's SOP, by keyboard
    path.get_by_test_id("stage.initial_contact").focus()
    page.keyboard.press("ArrowRight")
    expect(details.get_by_test_id("stage.guidance")).to_contain_text("确认预算、决策链和痛点")
    expect(details.get_by_test_id("stage.key.budget")).to_be_visible()
    expect(path.get_by_test_id("stage.needs_analysis")).to_be_focused()


def test_the_timeline_shows_a_follow_up_and_a_field_change(visitor: Visitor) -> None:
    server = visitor.server
    api = server.api()
    lead = _lead(server, name="时间线", company="时间线科技")
    expect_ok(api.post(f"{RECORDS}/lead/{lead['id']}/actions/claim"))
    expect_ok(api.post(f"{RECORDS}/follow_up", json={
        "lead": lead["id"], "kind": "call", "summary": "首次电话沟通",
        "notes": "客户预算有限，下月再谈", "happened_at": "2026-11-02T10:00:00+08:00"}))
    current = expect_ok(api.get(f"{RECORDS}/lead/{lead['id']}"))
    expect_ok(api.patch(f"{RECORDS}/lead/{lead['id']}", json={"status": "contacting"},
                        headers={"If-Match": f'"{current["version"]}"'}))
    visitor.sign_in("admin")
    page = visitor.open(f"/apps/crm/records/lead/{lead['id']}")
    timeline = page.get_by_test_id("record.timeline")
    activity = timeline.get_by_test_id("timeline.activity")
    expect(activity).to_contain_text("跟进记录：首次电话沟通")
    expect(activity).to_contain_text("客户预算有限")
    expect(activity).to_contain_text("电话")
    status = timeline.get_by_test_id("timeline.change.status")
    expect(status.first).to_contain_text("跟进中")
    # only the follow-ups
    timeline.get_by_test_id("timeline.filter").click()
    page.get_by_role("option", name="跟进").click()
    expect(timeline.get_by_test_id("timeline.changed")).to_have_count(0)
    expect(timeline.get_by_test_id("timeline.activity")).to_have_count(1)
    visitor.shoot("record-timeline")


def test_a_contract_submitted_from_its_page_shows_where_its_approval_waits(
        visitor: Visitor) -> None:
    server = visitor.server
    zhang = server.cast.users["zhang"]
    customer = expect_ok(server.api().post(f"{RECORDS}/customer", json={
        "name": "审批客户", "tag": "prospect", "owner": zhang}))
    contract = expect_ok(server.api().post(f"{RECORDS}/contract", json={
        "title": "年度服务合同", "customer": customer["id"], "amount": 50000,
        "status": "draft", "owner": zhang}))
    visitor.sign_in("zhang")
    page = visitor.open(f"/apps/crm/records/contract/{contract['id']}")
    page.get_by_test_id("action.submit").click()
    flow = page.get_by_test_id("record.flows").get_by_test_id("flow.contract_approval")
    expect(flow).to_contain_text("合同审批")
    expect(flow.get_by_test_id("flow.waiting")).to_contain_text("销售经理审批")
    expect(flow.get_by_test_id("flow.task")).to_contain_text("王芳")
    timeline = page.get_by_test_id("record.timeline")
    expect(timeline.get_by_test_id("timeline.flow").first).to_contain_text("合同审批")
    visitor.shoot("record-contract-flow")
    # the customer's page lists the contract, and a new contact is made for this customer
    page = visitor.open(f"/apps/crm/records/customer/{customer['id']}")
    contracts = page.get_by_test_id("related.contract")
    contracts.get_by_role("link", name=contract["number"]).click()
    expect(page).to_have_url(f"{server.url}/apps/crm/records/contract/{contract['id']}")
    page.go_back()
    new_contact = page.get_by_test_id("related.contact.new")
    expect(new_contact).to_have_attribute("href", f"/apps/crm/records/contact/new"
                                                  f"?customer={customer['id']}")
    new_contact.click()
    expect(page.get_by_test_id("contact.customer.picker")).to_contain_text("审批客户")
    page.get_by_test_id("contact.name").locator("input").first.fill("孙经理")
    page.get_by_test_id("form.save").click()
    expect(page.get_by_test_id("record.title")).to_have_text("孙经理")
    made = expect_ok(server.api().get(f"{RECORDS}/contact", params={
        "filter": '{"==": [{"var": "name"}, "孙经理"]}'}))["items"]
    assert [item["customer"] for item in made] == [customer["id"]]


def test_a_record_is_shared_from_its_page(visitor: Visitor) -> None:
    server = visitor.server
    lead = _lead(server, name="共享线索", company="共享科技")
    visitor.sign_in("admin")
    page = visitor.open(f"/apps/crm/records/lead/{lead['id']}")
    sharing = page.get_by_test_id("record.sharing")
    sharing.get_by_test_id("sharing.person").click()
    page.keyboard.type("孙丽")
    page.get_by_role("option", name="孙丽").click()
    sharing.get_by_test_id("sharing.share").click()
    expect(sharing.get_by_test_id("share.sun@yunqi.example")).to_contain_text("只读")
    shared = expect_ok(server.api().get(f"{RECORDS}/lead/{lead['id']}/shares"))["items"]
    assert [(item["email"], item["access"]) for item in shared] == [
        ("sun@yunqi.example", "read")]


def test_on_a_phone_the_page_stacks_and_actions_are_in_a_menu(phone_visitor: Visitor) -> None:
    visitor = phone_visitor
    lead = _lead(visitor.server, name="手机线索", company="手机科技")
    visitor.sign_in("zhang")
    page = visitor.open(f"/apps/crm/records/lead/{lead['id']}")
    expect(page.get_by_test_id("record.title")).to_have_text("手机线索")
    page.get_by_test_id("record.actions").click()
    expect(page.get_by_test_id("action.release.reason")).to_be_visible()
    page.get_by_test_id("action.claim").click()
    expect(page.get_by_test_id("header.owner")).to_contain_text("张伟")
    # nothing runs off the side of a phone's screen
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    visitor.shoot("record-phone")
