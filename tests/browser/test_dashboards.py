"""Dashboards draw what the server computed for the reader — the same numbers the API
answers — for the period they choose, on a desktop and on a phone."""

from __future__ import annotations

import re

from browser_kit import PHONE, Visitor, expect_ok
from playwright.sync_api import expect


def _digits(text: str) -> str:
    return re.sub(r"[^0-9.]", "", text)


def _customers(visitor: Visitor) -> None:
    api = visitor.server.api()
    for code in ("D-1", "D-2", "D-3"):
        expect_ok(api.post("/api/apps/crm/records/customer", json={
            "code": code, "name": f"看板客户 {code}", "tag": "formal",
            "owner": visitor.server.cast.users["east_manager"]}))


def test_the_page_shows_the_readers_own_figures_for_the_period(visitor: Visitor) -> None:
    _customers(visitor)
    visitor.sign_in("east_manager")
    page = visitor.open("/apps/crm/dashboards/customers")
    figures = expect_ok(visitor.server.api("east_manager").get(
        "/api/apps/crm/dashboards/customers", params={"period": "this_year"}))
    page.get_by_test_id("dashboard.period").click()
    page.get_by_role("option", name="今年").click()
    metrics = [w for w in figures["widgets"] if w["kind"] == "metric" and w["available"]]
    assert metrics, "the customers dashboard has figures"
    for widget in metrics:
        shown = page.get_by_test_id(f"widget.{widget['name']}").get_by_test_id("widget.value")
        expected = widget["value"]
        if expected is None:
            expect(shown).to_have_text("—")
        else:
            expect(shown).not_to_have_text("—")
            assert float(_digits(shown.inner_text())) == float(expected), widget["name"]
    new_customers = next(w for w in metrics if w["name"] == "new_customers")
    assert new_customers["value"] >= 3
    visitor.shoot("dashboard-customers")


def test_a_dashboard_reads_on_a_phone(phone_visitor: Visitor) -> None:
    phone_visitor.sign_in("director")
    page = phone_visitor.open("/apps/crm/dashboards/sales")
    assert page.viewport_size == PHONE
    expect(page.get_by_test_id("widget.won_amount")).to_be_visible()
    width = page.get_by_test_id("widget.won_amount").bounding_box()["width"]
    assert width > PHONE["width"] * 0.8, "one widget a row on a phone"
    phone_visitor.shoot("dashboard-phone")
