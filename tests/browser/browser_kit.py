"""What the browser tests share: a live ``loom serve`` in its own process, a person's
browser tab on it, and small checks."""

from __future__ import annotations

import asyncio
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from crm_world import PASSWORD, Cast, email_of
from fixture_kit import ADMIN_EMAIL, ADMIN_PASSWORD
from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, expect
from server_kit import start_loom

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@dataclass
class LiveServer:
    """A running ``loom serve`` on its own copy of the CRM world."""

    url: str
    kind: str
    cast: Cast
    process: subprocess.Popen[bytes]
    log: Path
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def api(self, key: str = "admin") -> httpx.Client:
        """An API client acting as ``key`` (a person of the world, or "admin")."""
        if key not in self.clients:
            self.clients[key] = httpx.Client(base_url=self.url, timeout=30, headers={
                "Authorization": f"Bearer {self.cast.tokens[key]}",
                "Accept-Language": "zh-CN"})
        return self.clients[key]

    def stop(self) -> None:
        for client in self.clients.values():
            client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_async(coroutine: Any) -> Any:
    """Run async set-up work from sync tests and fixtures: in a thread of its own, because
    an open browser driver keeps an event loop running in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def start_server(database_url: str, data_dir: Path, *, kind: str, cast: Cast,
                 extra_env: dict[str, str] | None = None,
                 first_run: str | None = "blank") -> LiveServer:
    """Start ``loom serve`` on ``database_url`` and wait until it answers. ``first_run``:
    LOOM_FIRST_RUN (None: unset, the default behaviour)."""
    started = start_loom(database_url, data_dir, extra_env=extra_env, first_run=first_run)
    return LiveServer(started.url, kind, cast, started.process, started.log)


class Console:
    """What a page said on its console: errors fail the test unless expected."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.expected: list[str] = []

    def listen(self, page: Page) -> None:
        page.on("console", self._on_message)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _on_message(self, entry: ConsoleMessage) -> None:
        if entry.type == "error":
            self.errors.append(f"{entry.text} ({entry.location.get('url', '')})")

    def expect(self, fragment: str) -> None:
        """An error containing ``fragment`` is part of what the test provokes."""
        self.expected.append(fragment)

    def unexpected(self) -> list[str]:
        return [error for error in self.errors
                if not any(fragment in error for fragment in self.expected)]


@dataclass
class Visitor:
    """One person's browser tab on the live server."""

    server: LiveServer
    context: BrowserContext
    page: Page
    console: Console

    def sign_in(self, key: str = "admin") -> None:
        """Open a session as ``key`` (cookies land in this browser context)."""
        email = ADMIN_EMAIL if key == "admin" else email_of(key)
        password = ADMIN_PASSWORD if key == "admin" else PASSWORD
        answer = self.context.request.post(f"{self.server.url}/api/auth/session",
                                           data={"email": email, "password": password})
        assert answer.ok, answer.text()

    def open(self, path: str) -> Page:
        self.page.goto(self.server.url + path)
        return self.page

    def shoot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        target = SHOTS / f"{name}-{self.server.kind}.png"
        self.page.screenshot(path=str(target))
        return target


def expect_ok(response: httpx.Response) -> Any:
    assert response.is_success, response.text
    return response.json() if response.content else None


def glyphs_differ(page: Page, text: str) -> bool:
    """Whether each character of ``text`` renders as its own glyph. Without a font for
    them, every character is drawn as the same empty box, so their images are equal."""
    page.evaluate("""(text) => {
        const box = document.createElement('div');
        box.id = 'glyph-probe';
        box.style.cssText = 'position:fixed;top:0;left:0;z-index:99999;background:#fff;' +
                            'font-size:40px;line-height:1;padding:4px';
        for (const char of text) {
            const span = document.createElement('span');
            span.textContent = char;
            span.style.display = 'inline-block';
            box.appendChild(span);
        }
        document.body.appendChild(box);
    }""", text)
    spans = page.locator("#glyph-probe span")
    images = [spans.nth(index).screenshot() for index in range(spans.count())]
    page.evaluate("document.getElementById('glyph-probe').remove()")
    return len(set(images)) == len(images)


def _settled(page: Page, element: Locator) -> Any:
    """Where ``element`` is once the page stops moving it (a menu or a total that arrives
    late shifts what is below it)."""
    box = element.bounding_box()
    for _ in range(50):
        page.wait_for_timeout(100)
        again = element.bounding_box()
        if again == box:
            return box
        box = again
    raise AssertionError("the page kept moving the element to drag")


def drag(page: Page, source: Locator, target: Locator, steps: int = 15,
         placeholder: str = ".ghost") -> None:
    """Drag ``source`` onto ``target`` the way a hand does: press, move in small steps (a
    drag library only starts dragging after the pointer has moved), and release only once
    the drop placeholder shows inside the target — on a busy machine the board may answer
    the pointer late, and a hand waits for it too. Starts once nothing is loading."""
    expect(page.locator(".el-loading-mask")).to_have_count(0)
    start, end = _settled(page, source), _settled(page, target)
    assert start and end, "both ends of a drag must be on screen"
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    x1, y1 = end["x"] + min(40, end["width"] / 2), end["y"] + min(30, end["height"] / 2)
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, steps + 1):
        page.mouse.move(x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps)
        page.wait_for_timeout(20)
    landing = target.locator(placeholder)
    for wiggle in range(50):
        if landing.count():
            break
        page.mouse.move(x1 + (wiggle % 2) * 4, y1 + (wiggle % 3))
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"the drop placeholder {placeholder!r} never showed in the target")
    page.mouse.up()
