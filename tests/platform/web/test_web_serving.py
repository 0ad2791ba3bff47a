"""The web app's files as `loom serve` gives them: every page address answers the app
(history mode), built assets are cached for good, the API keeps its own 404s, and a
machine without the build says how to make it."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from fixture_kit import problem_of

from loom.platform.api.web_app import APP_CSP, WEB_DIST, mount_web_app


async def test_pages_are_the_app_and_the_api_keeps_its_404s(anonymous: httpx.AsyncClient,
                                                             ) -> None:
    assert (WEB_DIST / "index.html").is_file(), "make install builds the web app"
    for address in ("/", "/sign-in", "/apps/crm/list/lead", "/apps/crm/records/lead/7"):
        page = await anonymous.get(address)
        assert page.status_code == 200, address
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache"
        assert page.headers["content-security-policy"] == APP_CSP
        assert '<div id="app">' in page.text
    problem_of(await anonymous.get("/api/no-such-thing"), 404)
    refused = await anonymous.post("/apps/crm/list/lead", json={})
    assert refused.status_code in (404, 405) and "<html" not in refused.text


async def test_assets_are_served_and_cached_for_good(anonymous: httpx.AsyncClient) -> None:
    index = (await anonymous.get("/")).text
    script = index.split('src="', 1)[1].split('"', 1)[0]
    assert script.startswith("/assets/") and script.endswith(".js")
    asset = await anonymous.get(script)
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await anonymous.get("/assets/not-there.js")).status_code == 404


async def test_without_the_build_the_page_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI(docs_url=None, redoc_url=None)
    mount_web_app(app, tmp_path / "dist")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://loom.test") as client:
        page = await client.get("/apps/crm")
        docs = await client.get("/docs")
    assert page.status_code == 503 and "make install" in page.text
    assert page.headers["retry-after"]
    assert docs.status_code == 503 and "make install" in docs.text
