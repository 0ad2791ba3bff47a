"""Browser sessions: an HttpOnly, SameSite=Lax session cookie (Secure over HTTPS) and a
readable CSRF cookie whose value must come back in X-CSRF-Token on every unsafe request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fixture_kit import problem_of
from identity_api import ADMIN, ADMIN_PASSWORD, EN, client_from

from loom.platform.clock import FixedClock
from loom.platform.services import Services

APP = {"slug": "notes", "metadata": {"app": {"label": "Notes"}, "entities": {"note": {
    "label": "Note", "fields": {"text": {"type": "text"}}}}}}
NOTES = "/api/apps/notes/records/note"


@pytest.fixture
async def browser(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(services, "192.0.2.10") as client:
        client.headers.update(EN)
        yield client


async def _open(client: httpx.AsyncClient) -> httpx.Response:
    response = await client.post("/api/auth/session",
                                 json={"email": ADMIN, "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    return response


def _cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name, attributes lower-cased."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        found[name] = header.lower()
    return found


async def test_signing_in_sets_the_two_cookies(browser: httpx.AsyncClient,
                                               clock: FixedClock) -> None:
    response = await _open(browser)
    body = response.json()
    assert body["user"]["email"] == ADMIN
    assert body["expires_at"] == (clock.now() + timedelta(hours=12)).isoformat().replace(
        "+00:00", "Z")
    cookies = _cookies(response)
    session, csrf = cookies["loom_session"], cookies["loom_csrf"]
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    assert "max-age=43200" in session
    assert "httponly" not in csrf and "samesite=lax" in csrf
    assert "secure" not in session and "secure" not in csrf  # plain http
    assert browser.cookies["loom_csrf"] == body["csrf_token"]
    assert browser.cookies["loom_session"].startswith("loom_")
    assert response.headers["cache-control"] == "no-store"


async def test_over_https_the_cookies_are_secure(services: Services) -> None:
    async with client_from(services, "192.0.2.10", base_url="https://loom.test") as client:
        cookies = _cookies(await _open(client))
    assert all("; secure" in header for header in cookies.values())


async def test_unsafe_requests_need_the_csrf_header(browser: httpx.AsyncClient,
                                                    api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/apps", json=APP)).status_code == 201
    note = (await api.post(NOTES, json={"text": "first"})).json()
    csrf = (await _open(browser)).json()["csrf_token"]
    # reading needs no CSRF token
    assert (await browser.get(NOTES)).status_code == 200
    assert (await browser.get("/api/auth/tokens")).json()["items"][0]["kind"] == "session"
    for headers in ({}, {"x-csrf-token": ""}, {"x-csrf-token": "0" * 64},
                    {"x-csrf-token": csrf[:-1]}, {"x-csrf-token": "口".encode() * 21}):
        for method, path in (("POST", NOTES), ("PATCH", f"{NOTES}/{note['id']}"),
                             ("DELETE", f"{NOTES}/{note['id']}"),
                             ("POST", "/api/auth/logout")):
            response = await browser.request(method, path, json={"text": "x"},
                                             headers={**headers, "if-match": "1"})
            refused = problem_of(response, 403)
            assert refused["detail"].startswith("The CSRF token is missing or wrong")
    created = await browser.post(NOTES, json={"text": "ok"}, headers={"x-csrf-token": csrf})
    assert created.status_code == 201, created.text
    texts = [n["text"] for n in (await api.get(NOTES, params={"sort": "id"})).json()["items"]]
    assert texts == ["first", "ok"]


async def test_the_csrf_token_belongs_to_its_session(browser: httpx.AsyncClient,
                                                     services: Services) -> None:
    mine = (await _open(browser)).json()["csrf_token"]
    async with client_from(services, "192.0.2.11") as other:
        theirs = (await _open(other)).json()["csrf_token"]
    assert mine != theirs
    # a CSRF cookie planted next to the session (say, from a sibling subdomain) is no help
    browser.cookies.set("loom_csrf", theirs, domain="loom.test")
    problem_of(await browser.post("/api/auth/tokens", json={"name": "n", "scopes": ["read"]},
                                  headers={"x-csrf-token": theirs}), 403)
    assert (await browser.post("/api/auth/tokens", json={"name": "n", "scopes": ["read"]},
                               headers={"x-csrf-token": mine})).status_code == 201


async def test_tokens_and_cookies_do_not_mix(browser: httpx.AsyncClient,
                                             api: httpx.AsyncClient) -> None:
    await _open(browser)
    session = browser.cookies["loom_session"]
    # a session token is no bearer token
    problem_of(await browser.get("/api/apps", headers={"authorization": f"Bearer {session}"}),
               401)
    # a bearer header wins over cookies (and needs no CSRF token)
    bearer = api.headers["authorization"]
    made = await browser.post("/api/auth/tokens", headers={"authorization": bearer},
                              json={"name": "n", "scopes": ["read"]})
    assert made.status_code == 201
    # closing "the session" of a bearer token is refused, and revokes nothing
    problem_of(await browser.delete("/api/auth/session", headers={"authorization": bearer}),
               400)
    assert (await api.get("/api/apps")).status_code == 200
    # a bearer token is no session cookie
    browser.cookies.set("loom_session", bearer.removeprefix("Bearer "), domain="loom.test")
    problem_of(await browser.get("/api/apps"), 401)


async def test_signing_out_ends_the_session(browser: httpx.AsyncClient,
                                            clock: FixedClock) -> None:
    csrf = (await _open(browser)).json()["csrf_token"]
    session = browser.cookies["loom_session"]
    problem_of(await browser.delete("/api/auth/session"), 403)  # CSRF applies here too
    # with a bearer token it is no session: nothing is revoked
    problem_of(await browser.delete("/api/auth/session", headers={
        "authorization": f"Bearer {session}"}), 401)
    closed = await browser.delete("/api/auth/session", headers={"x-csrf-token": csrf})
    assert closed.status_code == 204
    cleared = _cookies(closed)
    assert 'loom_session=""' in cleared["loom_session"] and "max-age=0" in \
        cleared["loom_session"]
    assert "max-age=0" in cleared["loom_csrf"]
    browser.cookies.set("loom_session", session, domain="loom.test")
    problem_of(await browser.get("/api/apps"), 401)

    # POST /api/auth/logout does the same for a session; sessions also expire
    csrf = (await _open(browser)).json()["csrf_token"]
    assert (await browser.post("/api/auth/logout",
                               headers={"x-csrf-token": csrf})).status_code == 204
    assert "loom_session" not in browser.cookies
    await _open(browser)
    clock.set(clock.now() + timedelta(hours=12))
    problem_of(await browser.get("/api/apps"), 401)


async def test_a_wrong_password_sets_no_cookie(browser: httpx.AsyncClient) -> None:
    response = await browser.post("/api/auth/session",
                                  json={"email": ADMIN, "password": "wrong-password"})
    assert problem_of(response, 401)["detail"] == "The email or password is wrong"
    assert "set-cookie" not in response.headers
    problem_of(await browser.get("/api/apps"), 401)
