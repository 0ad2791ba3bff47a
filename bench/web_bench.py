"""The web app's list page over a very long list, in a real browser (Debian's Chromium).

A ``deal`` entity with N rows (default 1,000,000) and the same entity with 1,000 rows, on
one server (``loom serve`` in its own process): the time from navigating to a list to its
first rows on screen, measured for each, and their ratio — a list whose first page cost
grew with its length would show it (no full ``COUNT(*)``, keyset pages). Also what a
list page loads: its JavaScript, gzipped, against the budget of 400 KB.

Budget (issue: the web app, part 1): the first page of the 1,000,000-row list in ≤ 1.5 s.

    python -m bench web

Settings (environment):
    LOOM_BENCH_DATABASE_URL  a PostgreSQL server (a scratch database is made there);
                             default SQLite in a temporary folder
    LOOM_BENCH_WEB_ROWS      rows of the long list, default 1,000,000
    LOOM_BENCH_WEB_RUNS      navigations measured per list, default 7
"""

from __future__ import annotations

import asyncio
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import case, literal

from bench.scratch import ADMIN, admin_actor, scratch_services
from bench.synthetic_rows import fill, padded

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
ROWS = int(os.environ.get("LOOM_BENCH_WEB_ROWS", "1000000"))
RUNS = int(os.environ.get("LOOM_BENCH_WEB_RUNS", "7"))
PASSWORD = "bench-password-1"
BUDGET_SECONDS = 1.5
BUDGET_JS_KB = 400
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STAGES = ["lead", "qualified", "proposal", "won", "lost"]


def _deal(label: str) -> dict[str, Any]:
    return {"label": {"zh-CN": label, "en": label}, "fields": {
        "title": {"type": "text", "label": {"zh-CN": "名称", "en": "Title"}},
        "amount": {"type": "currency", "label": {"zh-CN": "金额", "en": "Amount"}},
        "stage": {"type": "select", "label": {"zh-CN": "阶段", "en": "Stage"}, "options": [
            {"value": stage, "label": {"zh-CN": stage, "en": stage}} for stage in STAGES]},
        "closed_on": {"type": "date", "label": {"zh-CN": "成交日期", "en": "Closed on"}},
        "owner": {"type": "user", "label": {"zh-CN": "负责人", "en": "Owner"}}}}


DOC = {"app": {"label": {"zh-CN": "基准", "en": "Bench"}},
       "entities": {"deal": _deal("交易"), "small_deal": _deal("小列表")}}


async def prepare(services: Any) -> None:
    """The app and its rows (set-based: generating them is not what is measured)."""
    async with services.database.write() as conn:
        actor = await admin_actor(conn)
        await services.apps.create(conn, actor, "bench", DOC)
    async with services.database.write() as conn:
        runtime, _ = await services.apps.enter(conn, actor, "bench")
        now = datetime.now(UTC)
        for entity, count in (("deal", ROWS), ("small_deal", 1000)):
            def stage(n: Any) -> Any:
                return case(*[(n % len(STAGES) == index, literal(value))
                              for index, value in enumerate(STAGES)])
            await fill(conn, runtime.tables[entity], count, {
                "title": lambda n: literal("交易 ").concat(padded(n, 7)),
                "amount": lambda n: (n % 997) * 1000 + 500,
                "stage": stage,
                "owner": lambda n: literal(actor.user_id),
            }, now)


def _serve(database_url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = 18000 + os.getpid() % 1000
    env = {**os.environ, "LOOM_DATABASE_URL": database_url, "LOOM_DATA_DIR": str(folder),
           "LOOM_PORT": str(port), "LOOM_FIRST_RUN": "blank", "LOOM_LOG_JSON": "true"}
    loom = Path(sys.executable).with_name("loom")
    process = subprocess.Popen([str(loom), "serve"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("loom serve did not start")


def _first_rows(page: Page, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.locator(".ag-row [col-id=title]").first.wait_for(state="visible", timeout=30_000)
    return time.perf_counter() - started


def measure(url: str) -> dict[str, Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        context.request.post(f"{url}/api/auth/session",
                             data={"email": ADMIN, "password": PASSWORD})
        page = context.new_page()
        scripts: dict[str, int] = {}
        page.on("response", lambda response: scripts.__setitem__(
            response.url, len(gzip.compress(response.body(), 9)))
            if response.url.endswith(".js") and response.ok else None)
        _first_rows(page, f"{url}/apps/bench/list/small_deal")  # warm: assets cached
        page.goto("about:blank")
        times = {entity: [] for entity in ("deal", "small_deal")}
        for _ in range(RUNS):
            for entity in times:
                times[entity].append(_first_rows(page, f"{url}/apps/bench/list/{entity}"))
                page.goto("about:blank")
        browser.close()
    if os.environ.get("LOOM_BENCH_WEB_LIST_JS"):
        for name, size in sorted(scripts.items(), key=lambda item: -item[1]):
            print(f"    {size / 1024:7.1f} KB  {name.rsplit('/', 1)[-1]}")
    return {"times": times, "js_kb": sum(scripts.values()) / 1024, "scripts": len(scripts)}


async def run() -> None:
    async with scratch_services(DATABASE_URL) as (services, label):
        started = time.perf_counter()
        await prepare(services)
        print(f"{label}: {ROWS:,} deals written in {time.perf_counter() - started:.1f} s",
              flush=True)
        with tempfile.TemporaryDirectory() as folder:
            process, url = _serve(services.settings.resolved_database_url(), Path(folder))
            try:
                result = await asyncio.to_thread(measure, url)
            finally:
                process.terminate()
                process.wait(timeout=15)
    long_list = statistics.median(result["times"]["deal"])
    short_list = statistics.median(result["times"]["small_deal"])
    print(f"first rows on screen, median of {RUNS} navigations:")
    budget = f"budget {BUDGET_SECONDS * 1000:.0f} ms"
    print(f"  {ROWS:>9,} rows  {long_list * 1000:7.0f} ms   ({budget}: "
          f"{'within' if long_list <= BUDGET_SECONDS else 'OVER'})")
    print(f"  {1000:>9,} rows  {short_list * 1000:7.0f} ms   (baseline)")
    print(f"  ratio long / short: {long_list / short_list:.2f}")
    print(f"JavaScript a list page loads: {result['js_kb']:.0f} KB gzipped in "
          f"{result['scripts']} files (budget {BUDGET_JS_KB} KB: "
          f"{'within' if result['js_kb'] <= BUDGET_JS_KB else 'OVER'})")


def main() -> None:
    asyncio.run(run())
