"""Sign-in lockout: failures per email and per client address lock for a while, with one
answer whether the account exists or not; the counts live in the database, so every app
process sees them; time is the injected clock's."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fixture_kit import problem_of
from identity_api import ADMIN, ADMIN_PASSWORD, EN, add_user, client_from, sign_in

from loom.platform.api.app import create_app
from loom.platform.clock import FixedClock
from loom.platform.services import Services, build_services
from loom.platform.settings import Settings
from loom.platform.storage.database import Database, create_engine

CLERK, PASSWORD = "clerk@example.com", "clerk-password"


async def _fail(client: httpx.AsyncClient, email: str, times: int) -> list[httpx.Response]:
    return [await sign_in(client, email, "wrong-password", **EN) for _ in range(times)]


async def test_five_failures_lock_the_email_for_fifteen_minutes(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient, clock: FixedClock) -> None:
    await add_user(api, CLERK, PASSWORD)
    for response in await _fail(anonymous, CLERK, 4):
        problem_of(response, 401)
    fifth = (await _fail(anonymous, CLERK, 1))[0]
    locked = problem_of(fifth, 429)
    assert fifth.headers["retry-after"] == "900"
    assert locked["type"] == "urn:loom:problem:too-many-requests"
    assert locked["detail"] == "Too many failed sign-ins. Try again in 15 minute(s)."
    assert locked["retry_after"] == 900
    # while locked, even the right password is refused, and no password is checked
    right = await sign_in(anonymous, CLERK, PASSWORD, **EN)
    assert problem_of(right, 429)["detail"] == locked["detail"]
    session = await anonymous.post("/api/auth/session",
                                   json={"email": CLERK, "password": PASSWORD})
    problem_of(session, 429)
    assert "登录失败次数过多" in session.json()["detail"]  # Chinese by default

    clock.set(clock.now() + timedelta(minutes=10))
    still = await sign_in(anonymous, CLERK, PASSWORD)
    assert still.headers["retry-after"] == "300"
    clock.set(clock.now() + timedelta(minutes=5))
    assert (await sign_in(anonymous, CLERK, PASSWORD)).status_code == 200
    # a success forgives the email's failures: four more are not a lock
    for response in await _fail(anonymous, CLERK, 4):
        problem_of(response, 401)
    assert (await sign_in(anonymous, CLERK, PASSWORD)).status_code == 200


async def test_accounts_cannot_be_told_from_ghosts(api: httpx.AsyncClient,
                                                   anonymous: httpx.AsyncClient) -> None:
    await add_user(api, CLERK, PASSWORD)
    answers = {}
    for email in (CLERK, "ghost@example.com"):
        responses = await _fail(anonymous, email, 6)
        answers[email] = [(r.status_code, r.json()["detail"], r.headers.get("retry-after"))
                          for r in responses]
    assert answers[CLERK] == answers["ghost@example.com"]
    assert [status for status, _, _ in answers[CLERK]] == [401, 401, 401, 401, 429, 429]


async def test_failures_outside_the_window_do_not_add_up(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient, clock: FixedClock) -> None:
    await add_user(api, CLERK, PASSWORD)
    await _fail(anonymous, CLERK, 4)
    clock.set(clock.now() + timedelta(minutes=15))
    for response in await _fail(anonymous, CLERK, 4):
        problem_of(response, 401)
    problem_of((await _fail(anonymous, CLERK, 1))[0], 429)


async def test_settings_choose_the_limits(api: httpx.AsyncClient, anonymous: httpx.AsyncClient,
                                          services: Services, clock: FixedClock,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOM_LOGIN_MAX_FAILURES", "2")
    monkeypatch.setenv("LOOM_LOGIN_LOCK_MINUTES", "60")
    configured = Settings()
    assert (configured.login_max_failures, configured.login_lock_minutes) == (2, 60)
    monkeypatch.setattr(services, "settings", configured.model_copy(
        update={"database_url": services.settings.database_url}))
    await add_user(api, CLERK, PASSWORD)
    problem_of((await _fail(anonymous, CLERK, 1))[0], 401)
    second = (await _fail(anonymous, CLERK, 1))[0]
    assert problem_of(second, 429)["retry_after"] == 3600
    clock.set(clock.now() + timedelta(minutes=59))
    problem_of(await sign_in(anonymous, CLERK, PASSWORD), 429)
    clock.set(clock.now() + timedelta(minutes=1))
    assert (await sign_in(anonymous, CLERK, PASSWORD)).status_code == 200


async def test_an_address_that_guesses_at_many_emails_is_locked(
        api: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services.settings, "login_ip_max_failures", 6)
    await add_user(api, CLERK, PASSWORD)
    async with client_from(services, "203.0.113.7") as spray, \
            client_from(services, "198.51.100.9") as office:
        for n in range(3):
            problem_of((await _fail(spray, f"user{n}@example.com", 1))[0], 401)
        # a good sign-in from that address does not wipe its count
        assert (await sign_in(spray, ADMIN, ADMIN_PASSWORD)).status_code == 200
        for n in range(3, 5):
            problem_of((await _fail(spray, f"user{n}@example.com", 1))[0], 401)
        problem_of((await _fail(spray, "user5@example.com", 1))[0], 429)
        problem_of(await sign_in(spray, CLERK, PASSWORD), 429)
        # the same account from another address is fine
        assert (await sign_in(office, CLERK, PASSWORD)).status_code == 200


async def test_every_app_process_sees_the_same_counts(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient, services: Services,
        database_url: str, clock: FixedClock) -> None:
    await add_user(api, CLERK, PASSWORD)
    # a second process: its own services and connection pool over the same database
    other = build_services(services.settings, clock, Database(create_engine(database_url,
                                                                            pool_size=2)))
    try:
        transport = httpx.ASGITransport(app=create_app(services=other))
        async with httpx.AsyncClient(transport=transport, base_url="http://loom.test") as two:
            await _fail(anonymous, CLERK, 2)
            await _fail(two, CLERK, 2)
            problem_of((await _fail(anonymous, CLERK, 1))[0], 429)
            problem_of(await sign_in(two, CLERK, PASSWORD), 429)
    finally:
        await other.database.dispose()


async def test_parallel_guesses_do_not_slip_past_the_limit(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    import asyncio

    await add_user(api, CLERK, PASSWORD)
    responses = await asyncio.gather(*[sign_in(anonymous, CLERK, f"guess-{n}")
                                       for n in range(12)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * 4 + [429] * 8, statuses
