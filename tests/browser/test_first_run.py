"""The first start, as ``make run`` does it on a new machine: ``loom db upgrade`` then
``loom serve`` on an empty database — the server answers at once with a CRM cloned from
the template, its demo data loading in the background behind a progress banner, and the
person signs in with the credentials they chose and lands on a living sales board."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from browser_kit import CHROMIUM, CHROMIUM_ARGS, DESKTOP, SHOTS, run_async, start_server
from crm_world import Cast
from fixture_kit import ADMIN_EMAIL, ADMIN_PASSWORD, DATABASES, create_pg_database
from playwright.sync_api import expect, sync_playwright

NOBODY = Cast(users={}, tokens={}, teams={})


def _empty_database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder}/loom.db"
    return run_async(create_pg_database())


def _upgrade(url: str, data: Path) -> None:
    loom = Path(sys.executable).with_name("loom")
    done = subprocess.run([str(loom), "db", "upgrade"], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "LOOM_DATABASE_URL": url,
                                            "LOOM_DATA_DIR": str(data),
                                            "LOOM_ADMIN_EMAIL": ADMIN_EMAIL,
                                            "LOOM_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("kind", DATABASES)
def test_a_new_machine_opens_on_a_living_crm(kind: str, tmp_path: Path) -> None:
    url = _empty_database(kind, tmp_path)
    _upgrade(url, tmp_path / "data")
    # the CRM is the embedded default's first run; PostgreSQL asks for it explicitly
    live = start_server(url, tmp_path / "data", kind=kind, cast=NOBODY,
                        first_run="crm" if kind == "postgresql" else None)
    try:
        with httpx.Client(base_url=live.url, timeout=30) as api:
            token = api.post("/api/auth/token", json={"email": ADMIN_EMAIL,
                                                      "password": ADMIN_PASSWORD})
            api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            assert [app["slug"] for app in api.get("/api/apps").json()["items"]] == ["crm"]
            [loading] = api.get("/api/operations", params={"app": "crm"}).json()["items"]
            assert loading["kind"] == "demo_load"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                     args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
                page.set_default_timeout(20_000)
                page.goto(live.url)
                page.get_by_test_id("sign-in.email").fill(ADMIN_EMAIL)
                page.get_by_test_id("sign-in.password").fill(ADMIN_PASSWORD)
                page.get_by_test_id("sign-in.password").press("Enter")
                expect(page).to_have_url(f"{live.url}/apps/crm/views/opportunity_kanban",
                                        timeout=20_000)
                if api.get(loading["url"]).json()["status"] == "running":
                    expect(page.get_by_test_id("operation-banner")).to_be_visible()
                    page.screenshot(path=str(_shots() / f"first-run-loading-{kind}.png"))
                _until_done(api, loading["url"])
                expect(page.get_by_test_id("operation-finished")).to_be_visible(timeout=30_000)
                expect(page.locator("[data-testid^='kanban.card.']").first).to_be_visible()
                page.screenshot(path=str(_shots() / f"first-run-{kind}.png"))
                browser.close()
    finally:
        live.stop()


def test_a_blank_first_run_leaves_the_workspace_empty(tmp_path: Path) -> None:
    url = _empty_database("sqlite", tmp_path)
    _upgrade(url, tmp_path / "data")
    live = start_server(url, tmp_path / "data", kind="sqlite", cast=NOBODY,
                        first_run="blank")
    try:
        with httpx.Client(base_url=live.url, timeout=30) as api:
            token = api.post("/api/auth/token", json={"email": ADMIN_EMAIL,
                                                      "password": ADMIN_PASSWORD})
            api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            assert api.get("/api/apps").json()["items"] == []
    finally:
        live.stop()


def _until_done(api: httpx.Client, address: str) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status = api.get(address).json()["status"]
        if status != "running" and status != "queued":
            assert status == "succeeded", api.get(address).text
            return
        time.sleep(1)
    raise AssertionError("the demo data did not finish loading within 4 minutes")


def _shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
