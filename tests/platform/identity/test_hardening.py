"""Hardening at the HTTP edge: security headers on every response (errors and crashes
included), strict CORS unless origins are listed, and no secret in any log line."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fixture_kit import problem_of
from identity_api import ADMIN, ADMIN_PASSWORD, EN, sign_in
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from loom.platform.api.app import create_app
from loom.platform.logging_setup import JsonFormatter, RedactingFormatter
from loom.platform.security.redaction import redact, redact_text
from loom.platform.services import Services
from loom.platform.storage.system_tables import users

DEFAULT_CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
               "form-action 'self'; frame-ancestors 'none'")


def _client(services: Services, base_url: str = "http://loom.test",
            crash: bool = False) -> httpx.AsyncClient:
    app = create_app(services=services)
    if crash:
        async def crash_route() -> None:
            raise RuntimeError("boom with password=hunter2 and loom_" + "s" * 40)

        app.add_api_route("/api/crash", crash_route)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@pytest.fixture
async def plain(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(services, crash=True) as client:
        yield client


def _assert_hardened(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["content-security-policy"] == DEFAULT_CSP
    assert headers["x-request-id"]


async def test_every_response_carries_the_headers(plain: httpx.AsyncClient,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    responses = [await plain.get("/api/health"), await plain.get("/api/nothing"),
                 await plain.get("/api/apps"), await plain.post("/api/auth/token", json={}),
                 await plain.delete("/api/health"), await plain.get("/openapi.json")]
    with caplog.at_level(logging.ERROR, logger="loom.api"):
        crashed = await plain.get("/api/crash")
    assert [r.status_code for r in responses] == [200, 404, 401, 422, 405, 200]
    for response in [*responses, crashed]:
        _assert_hardened(response)
        assert "strict-transport-security" not in response.headers  # not over plain http
    # a crash: a bare problem+json 500 with the request id, the details only in the log
    body = problem_of(crashed, 500)
    assert body["request_id"] == crashed.headers["x-request-id"]
    assert "boom" not in crashed.text and "RuntimeError" not in crashed.text
    [record] = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    logged = JsonFormatter().format(record)
    assert "RuntimeError" in logged and "Traceback" in logged
    assert "hunter2" not in logged and "s" * 40 not in logged


async def test_auth_answers_are_not_cached(plain: httpx.AsyncClient) -> None:
    response = await sign_in(plain, ADMIN, ADMIN_PASSWORD)
    assert response.headers["cache-control"] == "no-store"
    assert "cache-control" not in (await plain.get("/api/health")).headers


async def test_https_gets_hsts(services: Services) -> None:
    async with _client(services, "https://loom.test") as client:
        response = await client.get("/api/health")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    _assert_hardened(response)


async def test_the_docs_page_loads_its_assets_from_loom_itself(
        plain: httpx.AsyncClient) -> None:
    docs = await plain.get("/docs")
    assert docs.status_code == 200, "the web build (make install) provides Swagger UI"
    policy = docs.headers["content-security-policy"]
    assert "http" not in policy and "frame-ancestors 'none'" in policy
    assert "cdn" not in docs.text and "/swagger/swagger-ui-bundle.js" in docs.text
    script = await plain.get("/swagger/swagger-ui-bundle.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert (await plain.get("/api/health")).headers["content-security-policy"] == DEFAULT_CSP


PREFLIGHT = {"origin": "https://evil.example", "access-control-request-method": "POST",
             "access-control-request-headers": "authorization, content-type", **EN}


async def test_no_cross_origin_calls_by_default(plain: httpx.AsyncClient) -> None:
    refused = await plain.options("/api/apps", headers=PREFLIGHT)
    body = problem_of(refused, 400)
    assert body["type"] == "urn:loom:problem:cross-origin-refused"
    assert "https://evil.example" in body["detail"] and "LOOM_CORS_ORIGINS" in body["detail"]
    assert "access-control-allow-origin" not in refused.headers
    _assert_hardened(refused)
    simple = await plain.get("/api/health", headers={"origin": "https://evil.example"})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


async def test_listed_origins_may_call(services: Services,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOM_CORS_ORIGINS", "https://crm.example.com, https://bi.example.com/")
    from loom.platform.settings import Settings

    origins = Settings().cors_origins
    assert origins == ["https://crm.example.com", "https://bi.example.com"]
    monkeypatch.setattr(services.settings, "cors_origins", origins)
    async with _client(services) as client:
        allowed = await client.options("/api/apps", headers={
            **PREFLIGHT, "origin": "https://crm.example.com"})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://crm.example.com"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in allowed.headers  # no cookies
        call = await client.get("/api/health", headers={"origin": "https://bi.example.com"})
        assert call.headers["access-control-allow-origin"] == "https://bi.example.com"
        assert "x-request-id" in call.headers["access-control-expose-headers"].lower()
        problem_of(await client.options("/api/apps", headers=PREFLIGHT), 400)
        problem_of(await client.options("/api/apps", headers={
            **PREFLIGHT, "origin": "https://crm.example.com",
            "access-control-request-headers": "x-evil"}), 400)


async def test_secrets_never_reach_the_logs(plain: httpx.AsyncClient,
                                            caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        token = (await sign_in(plain, ADMIN, ADMIN_PASSWORD)).json()["access_token"]
        await sign_in(plain, ADMIN, "wrong-password-1")
        await plain.get("/api/apps", params={"token": token},
                        headers={"authorization": f"Bearer {token}"})
        await plain.post("/api/auth/session", json={"email": ADMIN,
                                                    "password": ADMIN_PASSWORD})
        await plain.post("/api/auth/password-reset", json={"email": ADMIN})
        await plain.get("/api/crash")
    lines = [JsonFormatter().format(record) for record in caplog.records]
    lines += [RedactingFormatter("%(message)s").format(record) for record in caplog.records]
    text = "\n".join(lines)
    assert '"path": "/api/apps"' in text  # the request was logged: path, no query string
    for secret in (token, ADMIN_PASSWORD, "wrong-password-1", "loom_reset_"):
        assert secret not in text
    for line in lines[:len(caplog.records)]:
        json.loads(line)


def test_the_redactor_masks_what_looks_secret() -> None:
    token = "loom_" + "A1b2" * 10
    line = (f"Authorization: Bearer {token} password=hunter2 'secret': 'x' "
            "smtp://mailer:mail-pass@smtp.example.com:465 "
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA cookie: loom_session=abc")
    masked = redact_text(line)
    for secret in (token, "hunter2", "mail-pass", "c2FsdA", "aGFzaA", "abc"):
        assert secret not in masked, secret
    assert "smtp.example.com" in masked  # what helps debugging stays
    assert redact({"password": "p", "api_token": "t", "note": f"x {token}", "count": 3}) == {
        "password": "[redacted]", "api_token": "[redacted]",
        "note": "x loom_[redacted]", "count": 3}


async def test_database_errors_do_not_show_parameters(services: Services) -> None:
    secret = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0$c2VjcmV0"
    with pytest.raises(IntegrityError) as caught:
        async with services.database.write() as conn:
            await conn.execute(insert(users).values(workspace_id=1, email=ADMIN, name="dup",
                                                    password_hash=secret, is_admin=False,
                                                    active=True, created_at=None))
    assert "c2VjcmV0" not in str(caught.value)
