"""Browser tests: Debian's Chromium driven by Playwright against a live ``loom serve``
(a separate process, as a user runs it), on every database under test.

The server holds the CRM world of the acceptance stories (``crm_world``: the template
cloned, a small company's people in their roles and teams), built once per database kind
and copied for each test module. Tests sign people in through the session endpoint (the
sign-in page itself is tested on its own) and click the way a person does. Screenshots go
to ``artifacts/screenshots`` (git-ignored). Without Chromium these tests fail, never skip.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest
from browser_kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    Console,
    LiveServer,
    Visitor,
    run_async,
    start_server,
)
from crm_world import Cast, world_database
from fixture_kit import DATABASES, copy_database, migrated_template, release_database
from playwright.sync_api import Browser, sync_playwright


async def _crm_template(kind: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str,
                                                                                      Cast]:
    migrated = await migrated_template(kind, tmp_path_factory)
    return await world_database(kind, migrated, tmp_path_factory.mktemp("crm_world"))


# Work on the world's database before its server starts (a test module may define
# ``prepare_world`` as a fixture returning one): async, given the database's URL.
Preparation = Callable[[str], Awaitable[None]]


@pytest.fixture(scope="module")
def prepare_world() -> Preparation | None:
    return None


@pytest.fixture(scope="module", params=DATABASES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           prepare_world: Preparation | None) -> Iterator[LiveServer]:
    """A live server on a fresh copy of the CRM world, one per test module and database."""
    kind = str(request.param)
    template, cast = run_async(_crm_template(kind, tmp_path_factory))
    directory = tmp_path_factory.mktemp("browser")
    url = run_async(copy_database(template, directory))
    if prepare_world is not None:
        run_async(prepare_world(url))
    live = start_server(url, directory / "loom-data", kind=kind, cast=cast)
    yield live
    live.stop()
    release_database(url)


# One per module: the driver keeps an event loop running in this thread while it is open,
# and the async tests that follow in the same process need the thread free of it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), ("Chromium is needed for the browser tests: "
                               "apt-get install chromium fonts-wqy-microhei")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _visitor(browser: Browser, server: LiveServer, locale: str,
             viewport: dict[str, int]) -> Iterator[Visitor]:
    context = browser.new_context(viewport=viewport, locale=locale,
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    console = Console()
    console.listen(page)
    visitor = Visitor(server, context, page, console)
    yield visitor
    context.close()
    assert not console.unexpected(), f"console errors: {console.unexpected()}"


@pytest.fixture
def visitor(browser: Browser, server: LiveServer) -> Iterator[Visitor]:
    """A desktop browser (1366×768) reading Chinese."""
    yield from _visitor(browser, server, "zh-CN", DESKTOP)


@pytest.fixture
def phone_visitor(browser: Browser, server: LiveServer) -> Iterator[Visitor]:
    """A phone-sized browser (390×844) reading Chinese."""
    yield from _visitor(browser, server, "zh-CN", PHONE)


