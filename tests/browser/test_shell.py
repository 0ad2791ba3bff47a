"""The shell a person meets: signing in and out, the languages, navigation built from what
their roles allow, the search box, and clear pages when something is not there."""

from __future__ import annotations

import re

from browser_kit import PHONE, Visitor, glyphs_differ
from crm_world import PASSWORD, email_of
from playwright.sync_api import expect


def test_sign_in_shows_the_crm_and_sign_out_leaves_it(visitor: Visitor) -> None:
    page = visitor.open("/apps/crm")
    expect(page).to_have_url(f"{visitor.server.url}/sign-in?next=/apps/crm")
    page.get_by_test_id("sign-in.email").fill(email_of("zhang"))
    page.get_by_test_id("sign-in.password").fill("wrong-password-1")
    page.get_by_test_id("sign-in.password").press("Enter")
    expect(page.get_by_test_id("sign-in.error")).to_be_visible()
    visitor.console.expect("401")
    page.get_by_test_id("sign-in.password").fill(PASSWORD)
    page.get_by_test_id("sign-in.password").press("Enter")
    expect(page.get_by_test_id("nav")).to_be_visible()
    expect(page).to_have_url(f"{visitor.server.url}/apps/crm/views/opportunity_kanban")
    visitor.shoot("shell-zh-CN")
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("user-menu.sign-out").click()
    expect(page).to_have_url(f"{visitor.server.url}/sign-in")
    page.goto(f"{visitor.server.url}/apps/crm")
    expect(page.get_by_test_id("sign-in.email")).to_be_visible()


def test_navigation_follows_the_readers_roles(visitor: Visitor) -> None:
    visitor.sign_in("zhang")
    page = visitor.open("/apps/crm")
    nav = page.get_by_test_id("nav")
    expect(nav.get_by_test_id("nav.entity.lead")).to_be_visible()
    expect(nav.get_by_test_id("nav.view.lead_pool")).to_be_visible()
    # the SLA board is the service team's
    expect(nav.get_by_test_id("nav.view.ticket_sla_board")).to_have_count(0)
    visitor.sign_in("engineer_wu")
    page = visitor.open("/apps/crm")
    expect(page.get_by_test_id("nav.view.ticket_sla_board")).to_be_visible()
    # an engineer may not read leads at all: neither the entity nor its views
    expect(page.get_by_test_id("nav.entity.lead")).to_have_count(0)
    expect(page.get_by_test_id("nav.view.lead_pool")).to_have_count(0)


def test_language_switch_is_remembered_for_the_person(visitor: Visitor) -> None:
    visitor.sign_in("li")
    page = visitor.open("/apps/crm")
    expect(page.get_by_test_id("nav.entity.lead")).to_have_text("线索")
    assert glyphs_differ(page, "线索商机"), "Chinese renders as boxes: is a CJK font installed?"
    page.get_by_test_id("language.en").click()
    expect(page.get_by_test_id("nav.entity.lead")).to_have_text("Leads")
    expect(page.get_by_test_id("search")).to_have_attribute("placeholder", "Search (press /)")
    # the switch shows the language chosen, and the page is drawn before it is shot
    expect(page.get_by_test_id("language.en")).to_have_class(re.compile(r"\bis-active\b"))
    expect(page.locator("[data-testid^='kanban.lane.']").first).to_be_visible()
    visitor.shoot("shell-en")
    assert visitor.server.api("li").get("/api/me").json()["locale"] == "en"
    page.reload()
    expect(page.get_by_test_id("nav.entity.lead")).to_have_text("Leads")


def test_search_box_finds_a_customer_and_opens_it(visitor: Visitor) -> None:
    created = visitor.server.api().post("/api/apps/crm/records/customer", json={
        "code": "C-BROWSER-1", "name": "青松物流有限公司"}).json()
    visitor.sign_in("admin")
    page = visitor.open("/apps/crm")
    expect(page.get_by_test_id("search")).to_be_visible()
    page.keyboard.press("/")
    page.keyboard.type("青松物流")
    hit = page.get_by_test_id(f"search.hit.customer.{created['id']}")
    expect(hit).to_be_visible()
    hit.click()
    expect(page).to_have_url(
        f"{visitor.server.url}/apps/crm/records/customer/{created['id']}")


def test_pages_that_are_not_there_say_so(visitor: Visitor) -> None:
    visitor.sign_in("zhang")
    page = visitor.open("/apps/no-such-app")
    visitor.console.expect("404")
    expect(page.get_by_test_id("problem.not-found")).to_be_visible()
    page = visitor.open("/somewhere/else")
    expect(page.get_by_test_id("problem.not-found")).to_be_visible()


def test_an_unreachable_server_is_announced_and_recovery_noticed(visitor: Visitor) -> None:
    visitor.sign_in("zhang")
    page = visitor.open("/apps/crm")
    expect(page.get_by_test_id("nav")).to_be_visible()
    page.route("**/api/**", lambda route: route.abort("connectionrefused"))
    visitor.console.expect("ERR_CONNECTION_REFUSED")
    page.get_by_test_id("language.en").click()
    expect(page.get_by_test_id("unreachable")).to_be_visible()
    page.unroute("**/api/**")
    expect(page.get_by_test_id("unreachable")).to_be_hidden(timeout=10_000)


def test_the_phone_layout_keeps_navigation_in_a_drawer(phone_visitor: Visitor) -> None:
    phone_visitor.sign_in("zhang")
    page = phone_visitor.open("/apps/crm")
    assert page.viewport_size == PHONE
    expect(page.get_by_test_id("nav")).to_be_hidden()
    page.get_by_test_id("nav.open").click()
    expect(page.get_by_test_id("nav")).to_be_visible()
    phone_visitor.shoot("shell-phone")
