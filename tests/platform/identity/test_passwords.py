"""Passwords: the policy (at least 10 characters, not the email), reset by an emailed
single-use link that expires in an hour, and change while signed in."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import httpx
from fixture_kit import problem_of
from identity_api import EN, add_user, bearer, fields_of, sign_in
from sqlalchemy import select

from loom.platform.clock import FixedClock
from loom.platform.services import Services
from loom.platform.storage.system_tables import outbox, password_resets, users
from loom.platform.worker import Worker

CLERK, PASSWORD, NEW = "clerk@example.com", "clerk-password", "a-new-password-9"


async def _emails(services: Services) -> list[dict]:
    async with services.database.read() as conn:
        rows = await conn.execute(select(outbox).where(outbox.c.kind == "email")
                                  .order_by(outbox.c.id))
        return [dict(row) for row in rows.mappings()]


def _token_in(email: dict) -> str:
    found = re.search(r"token=(loom_reset_[A-Za-z0-9_-]+)", email["payload"]["text"])
    assert found, email["payload"]["text"]
    return found.group(1)


async def _ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/auth/password-reset", json={"email": email}, headers=EN)


async def _confirm(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/password-reset/confirm",
                             json={"token": token, "password": password}, headers=EN)


async def test_the_password_policy(api: httpx.AsyncClient) -> None:
    for password, code in (("short-9", "too_short"), ("x" * 257, "too_long"),
                           ("Long@Example.com", "is_email")):
        refused = problem_of(await api.post("/api/users", headers=EN, json={
            "email": "long@example.com", "name": "L", "password": password}), 422)
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [("password", code)]
    zh = problem_of(await api.post("/api/users", json={
        "email": "long@example.com", "name": "L", "password": "short"}), 422)
    assert zh["errors"][0]["message"] == "密码至少需要 10 个字符"
    en = problem_of(await api.post("/api/users", headers=EN, json={
        "email": "long@example.com", "name": "L", "password": "short"}), 422)
    assert en["errors"][0]["message"] == "The password needs at least 10 characters"
    await add_user(api, "long@example.com", "ten-chars!")


async def test_a_reset_link_is_emailed_and_works_once(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient, services: Services) -> None:
    await add_user(api, CLERK, PASSWORD, locale="en")
    clerk = await bearer(anonymous, CLERK, PASSWORD)
    asked = await _ask(anonymous, " Clerk@Example.com ")
    assert asked.status_code == 202
    assert asked.json() == {"detail": "If the address belongs to an active account, a reset "
                                      "link is on its way"}
    [email] = await _emails(services)
    assert email["payload"]["to"] == [CLERK]
    assert email["payload"]["subject"] == "Reset your Loom password"
    assert "within 60 minutes" in email["payload"]["text"]
    assert "http://127.0.0.1:8000/reset-password?token=" in email["payload"]["text"]
    token = _token_in(email)
    async with services.database.read() as conn:
        stored = (await conn.execute(select(password_resets))).mappings().one()
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()

    # a password the policy refuses leaves the link usable
    for weak, field in (("short", "password"), (CLERK.upper(), "password")):
        assert fields_of(problem_of(await _confirm(anonymous, token, weak), 422)) == [field]
    assert (await _confirm(anonymous, token, NEW)).status_code == 204
    problem_of(await sign_in(anonymous, CLERK, PASSWORD), 401)
    assert (await sign_in(anonymous, CLERK, NEW)).status_code == 200
    # whoever had a token of the account is out
    problem_of(await anonymous.get("/api/apps", headers=clerk), 401)
    # once only
    again = problem_of(await _confirm(anonymous, token, "another-password-1"), 422)
    assert again["errors"] == [{"field": "token", "code": "invalid", "message":
                                "The reset link is unknown, used or expired; ask for a new one"}]
    for bogus in ("", "loom_reset_nope", token + "x", "x\x00"):
        problem_of(await _confirm(anonymous, bogus, "another-password-1"), 422)


async def test_asking_says_nothing_about_the_address(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient, services: Services) -> None:
    await add_user(api, CLERK, PASSWORD)
    gone = await add_user(api, "gone@example.com", "gone-password")
    assert (await api.post(f"/api/users/{gone['id']}/deactivate")).status_code == 200
    answers = [await _ask(anonymous, email) for email in
               (CLERK, "ghost@example.com", "gone@example.com", "", "x\x00@example.com",
                "x" * 400)]
    assert {(r.status_code, r.text) for r in answers} == {(202, answers[0].text)}
    assert [e["payload"]["to"] for e in await _emails(services)] == [[CLERK]]
    problem_of(await anonymous.post("/api/auth/password-reset", json={}), 422)


async def test_the_email_speaks_the_users_language_and_is_delivered(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient, services: Services,
        clock: FixedClock) -> None:
    await add_user(api, CLERK, PASSWORD)  # no locale: Chinese, the default
    await _ask(anonymous, CLERK)
    [email] = await _emails(services)
    assert email["payload"]["subject"] == "重置您的 Loom 密码"
    assert "60 分钟内" in email["payload"]["text"]

    sent: list[dict] = []

    class Mailbox:
        async def send(self, payload: dict, key: str) -> None:
            sent.append(payload)

    await Worker(services, email=Mailbox()).run_once(clock.now())  # type: ignore[arg-type]
    assert [p["to"] for p in sent] == [[CLERK]]


async def test_links_expire_and_are_rationed(api: httpx.AsyncClient,
                                             anonymous: httpx.AsyncClient,
                                             services: Services, clock: FixedClock) -> None:
    await add_user(api, CLERK, PASSWORD)
    for _ in range(5):
        assert (await _ask(anonymous, CLERK)).status_code == 202
    emails = await _emails(services)
    assert len(emails) == 3  # three an hour at most: the form cannot flood a mailbox
    clock.set(clock.now() + timedelta(minutes=60))
    problem_of(await _confirm(anonymous, _token_in(emails[0]), NEW), 422)
    await _ask(anonymous, CLERK)
    fresh = _token_in((await _emails(services))[-1])
    # a newer link does not void the older ones; using one voids them all
    clock.set(clock.now() + timedelta(minutes=59))
    assert (await _confirm(anonymous, fresh, NEW)).status_code == 204
    # the sweep drops what is a day past
    clock.set(clock.now() + timedelta(days=2))
    await Worker(services).run_once(clock.now())
    async with services.database.read() as conn:
        assert (await conn.execute(select(password_resets))).all() == []


async def test_a_reset_lifts_a_lockout(api: httpx.AsyncClient, anonymous: httpx.AsyncClient,
                                       services: Services) -> None:
    await add_user(api, CLERK, PASSWORD)
    for _ in range(5):
        await sign_in(anonymous, CLERK, "wrong-password")
    problem_of(await sign_in(anonymous, CLERK, PASSWORD), 429)
    await _ask(anonymous, CLERK)
    assert (await _confirm(anonymous, _token_in((await _emails(services))[0]), NEW)
            ).status_code == 204
    assert (await sign_in(anonymous, CLERK, NEW)).status_code == 200


async def test_changing_my_password(api: httpx.AsyncClient, anonymous: httpx.AsyncClient,
                                    services: Services) -> None:
    await add_user(api, CLERK, PASSWORD)
    first = {**await bearer(anonymous, CLERK, PASSWORD), **EN}
    second = await bearer(anonymous, CLERK, PASSWORD)
    robot = (await anonymous.post("/api/auth/tokens", headers=first, json={
        "name": "robot", "scopes": ["read", "write"]})).json()
    robot_headers = {"authorization": f"Bearer {robot['token']}", **EN}

    change = "/api/auth/password"
    refused = problem_of(await anonymous.post(change, headers=first, json={
        "current": "wrong-password", "new": NEW}), 422)
    assert refused["errors"][0] == {"field": "current", "code": "wrong",
                                    "message": "The current password is wrong"}
    weak = problem_of(await anonymous.post(change, headers=first, json={
        "current": PASSWORD, "new": "short"}), 422)
    assert fields_of(weak) == ["new"]
    problem_of(await anonymous.post(change, headers=robot_headers, json={
        "current": PASSWORD, "new": NEW}), 403)
    problem_of(await anonymous.post(change, json={"current": PASSWORD, "new": NEW},
                                    headers={"authorization": "Bearer nope"}), 401)
    assert (await anonymous.post(change, headers=first, json={
        "current": PASSWORD, "new": NEW})).status_code == 204
    # this sign-in and machine tokens go on; other sign-ins end
    assert (await anonymous.get("/api/apps", headers=first)).status_code == 200
    assert (await anonymous.get("/api/apps", headers=robot_headers)).status_code == 200
    problem_of(await anonymous.get("/api/apps", headers=second), 401)
    assert (await sign_in(anonymous, CLERK, NEW)).status_code == 200
    async with services.database.read() as conn:
        stored = await conn.scalar(select(users.c.password_hash).where(users.c.email == CLERK))
    assert stored.startswith("$argon2id$") and NEW not in stored


async def test_guessing_the_current_password_is_throttled(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    await add_user(api, CLERK, PASSWORD)
    clerk = {**await bearer(anonymous, CLERK, PASSWORD), **EN}
    statuses = [(await anonymous.post("/api/auth/password", headers=clerk, json={
        "current": f"guess-{n}-guess", "new": NEW})).status_code for n in range(6)]
    assert statuses == [422, 422, 422, 422, 429, 429]
    problem_of(await sign_in(anonymous, CLERK, PASSWORD), 429)
