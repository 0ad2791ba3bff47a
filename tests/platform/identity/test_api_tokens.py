"""API tokens for machines: named, scoped (read / write / admin), shown once and stored as a
hash, expiring, listed and revoked; scopes are enforced for every command."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import httpx
from fixture_kit import problem_of
from identity_api import (
    ADMIN,
    EN,
    add_user,
    bearer,
    client_from,
    fields_of,
    other_workspace,
    user_id,
)
from sqlalchemy import select

from loom.platform.clock import FixedClock
from loom.platform.services import Services
from loom.platform.storage.system_tables import api_tokens

DOC = {"app": {"label": "Desk"}, "entities": {"ticket": {
    "label": {"zh-CN": "工单", "en": "Ticket"},
    "fields": {"title": {"type": "text", "required": True}}}}}
TICKETS = "/api/apps/desk/records/ticket"


async def _token(api: httpx.AsyncClient, scopes: list[str], **extra: object) -> dict:
    response = await api.post("/api/auth/tokens", json={"name": "etl", "scopes": scopes,
                                                        **extra})
    assert response.status_code == 201, response.text
    return response.json()


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _as(token: dict) -> dict[str, str]:
    return {"authorization": f"Bearer {token['token']}", **EN}


async def test_a_token_is_shown_once_and_stored_as_a_hash(
        api: httpx.AsyncClient, services: Services, clock: FixedClock) -> None:
    made = await _token(api, ["read"], days=30)
    assert made["token"].startswith("loom_") and made["name"] == "etl"
    assert made["kind"] == "api" and made["scopes"] == ["read"]
    assert made["expires_at"] == iso(clock.now() + timedelta(days=30))
    async with services.database.read() as conn:
        stored = (await conn.execute(select(api_tokens).where(
            api_tokens.c.id == made["id"]))).mappings().one()
    assert stored["token_hash"] == hashlib.sha256(made["token"].encode()).hexdigest()
    assert made["token"] not in str(dict(stored))
    listed = (await api.get("/api/auth/tokens")).json()["items"]
    assert made["id"] in [item["id"] for item in listed]
    assert all("token" not in item for item in listed)
    assert [item["current"] for item in listed if item["id"] != made["id"]] == [True]
    # the default lifetime is LOOM_API_TOKEN_DAYS (a year); write includes read
    second = await _token(api, ["write"])
    assert second["scopes"] == ["read", "write"]
    assert second["expires_at"] == iso(clock.now() + timedelta(days=365))
    clock.set(clock.now() + timedelta(days=30))
    problem_of(await api.get("/api/apps", headers=_as(made)), 401)
    assert (await api.get("/api/apps", headers=_as(second))).status_code == 200


async def test_scopes_bound_what_a_token_may_do(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/apps", json={"slug": "desk", "metadata": DOC})).status_code \
        == 201
    # the admin's tokens: read-only admin (an auditor), and write without admin rights
    auditor, writer = await _token(api, ["read", "admin"]), await _token(api, ["write"])
    reader = await _token(api, ["read"])
    assert (await api.post(TICKETS, json={"title": "seed"})).status_code == 201

    assert (await api.get(TICKETS, headers=_as(auditor))).status_code == 200
    assert (await api.get("/api/users", headers=_as(auditor))).status_code == 200
    for method, path, body in (("POST", TICKETS, {"title": "x"}),
                               ("POST", "/api/users", {"email": "a@b.cn", "name": "a"}),
                               ("POST", "/api/auth/tokens", {"name": "n", "scopes": ["read"]}),
                               ("DELETE", "/api/apps/desk", None),
                               ("POST", "/api/apps/desk/metadata/publish", {})):
        for token in (auditor, reader):
            refused = problem_of(await api.request(method, path, json=body,
                                                   headers=_as(token)), 403)
            assert refused["detail"] == \
                "This token may not do that: it lacks the 'write' scope", (method, path)
    zh = problem_of(await api.post(TICKETS, json={"title": "x"}, headers={
        "authorization": f"Bearer {auditor['token']}"}), 403)
    assert "write" in zh["detail"] and "权限范围" in zh["detail"]

    # without the admin scope an administrator's token is an ordinary user's
    for token in (writer, reader):
        problem_of(await api.get("/api/users", headers=_as(token)), 403)
        problem_of(await api.get(TICKETS, headers=_as(token)), 403)
    problem_of(await api.post("/api/users", headers=_as(writer),
                              json={"email": "a@b.cn", "name": "a"}), 403)
    problem_of(await api.post(TICKETS, json={"title": "y"}, headers=_as(writer)), 403)
    assert (await api.get("/api/apps", headers=_as(reader))).status_code == 200
    titles = [r["title"] for r in (await api.get(TICKETS)).json()["items"]]
    assert titles == ["seed"]


async def test_no_token_gets_more_than_its_maker_has(api: httpx.AsyncClient,
                                                    anonymous: httpx.AsyncClient) -> None:
    await add_user(api, "clerk@example.com", "clerk-password")
    clerk = {**await bearer(anonymous, "clerk@example.com", "clerk-password"), **EN}
    refused = problem_of(await anonymous.post("/api/auth/tokens", headers=clerk, json={
        "name": "n", "scopes": ["read", "admin"]}), 403)
    assert fields_of(refused) == ["scopes"]
    assert "admin" in refused["errors"][0]["message"]
    mine = (await anonymous.post("/api/auth/tokens", headers=clerk, json={
        "name": "n", "scopes": ["read", "write"]})).json()
    # a token without the admin scope cannot mint one that has it
    writer = await _token(api, ["write"])
    problem_of(await api.post("/api/auth/tokens", headers=_as(writer), json={
        "name": "n", "scopes": ["admin"]}), 403)
    assert (await api.post("/api/auth/tokens", headers=_as(writer), json={
        "name": "n", "scopes": ["write"]})).status_code == 201
    # bad requests
    for body, field in (({"name": "n", "scopes": []}, "scopes"),
                        ({"name": "n", "scopes": ["root"]}, "scopes.0"),
                        ({"name": "", "scopes": ["read"]}, "name"),
                        ({"name": "  ", "scopes": ["read"]}, "name"),
                        ({"name": "n\x00", "scopes": ["read"]}, "name"),
                        ({"name": "n" * 201, "scopes": ["read"]}, "name"),
                        ({"name": "n", "scopes": ["read"], "days": 0}, "days"),
                        ({"name": "n", "scopes": ["read"], "days": 3651}, "days"),
                        ({"scopes": ["read"]}, "name")):
        refused = problem_of(await api.post("/api/auth/tokens", json=body), 422)
        assert field in fields_of(refused), (body, refused)
    assert (await anonymous.get(TICKETS.replace("desk", "none"),
                                headers={"authorization": f"Bearer {mine['token']}"})
            ).status_code == 404


async def test_listing_and_revoking(api: httpx.AsyncClient, anonymous: httpx.AsyncClient,
                                    services: Services) -> None:
    clerk_user = await add_user(api, "clerk@example.com", "clerk-password")
    clerk = {**await bearer(anonymous, "clerk@example.com", "clerk-password"), **EN}
    robot = (await anonymous.post("/api/auth/tokens", headers=clerk, json={
        "name": "robot", "scopes": ["read"]})).json()
    # mine only; an admin may look at someone else's, by id or email
    names = [t["name"] for t in (await anonymous.get("/api/auth/tokens",
                                                     headers=clerk)).json()["items"]]
    assert names == ["robot", "login"]
    for who in (str(clerk_user["id"]), "clerk@example.com", "CLERK@example.com"):
        listed = (await api.get("/api/auth/tokens", params={"user": who})).json()["items"]
        assert [t["name"] for t in listed] == ["robot", "login"]
    problem_of(await anonymous.get("/api/auth/tokens", headers=clerk,
                                   params={"user": ADMIN}), 403)
    for who in ("ghost@example.com", "99999", "root@other.example"):
        problem_of(await api.get("/api/auth/tokens", params={"user": who}), 404)
    # a NUL is refused at the door, whatever the route (PostgreSQL text cannot hold one)
    problem_of(await api.get("/api/auth/tokens", params={"user": "x\x00"}), 400)

    # the clerk cannot revoke the admin's token (it is not theirs: 404, as for no token)
    admin_tokens = (await api.get("/api/auth/tokens")).json()["items"]
    for token_id in (admin_tokens[0]["id"], 99999):
        problem_of(await anonymous.delete(f"/api/auth/tokens/{token_id}", headers=clerk), 404)
    assert (await api.get("/api/users")).status_code == 200
    assert (await anonymous.delete(f"/api/auth/tokens/{robot['id']}",
                                   headers=clerk)).status_code == 204
    problem_of(await anonymous.get("/api/apps", headers=_as(robot)), 401)
    problem_of(await anonymous.delete(f"/api/auth/tokens/{robot['id']}", headers=clerk), 404)
    # an admin revokes anyone's token in the workspace
    login_id = next(t["id"] for t in (await api.get(
        "/api/auth/tokens", params={"user": "clerk@example.com"})).json()["items"])
    assert (await api.delete(f"/api/auth/tokens/{login_id}")).status_code == 204
    problem_of(await anonymous.get("/api/apps", headers=clerk), 401)
    assert await user_id(services, "clerk@example.com") == clerk_user["id"]


async def test_logout_revokes_the_token_of_the_request(api: httpx.AsyncClient,
                                                       services: Services) -> None:
    anonymous = client_from(services, "127.0.0.1")  # ``api`` is the fixture's client
    reader = await _token(api, ["read"])
    # even a read-only token may end itself
    assert (await anonymous.post("/api/auth/logout", headers=_as(reader))).status_code == 204
    problem_of(await anonymous.get("/api/apps", headers=_as(reader)), 401)
    problem_of(await anonymous.post("/api/auth/logout", headers=_as(reader)), 401)
    problem_of(await anonymous.post("/api/auth/logout"), 401)
    await anonymous.aclose()
    assert (await api.get("/api/apps")).status_code == 200  # other tokens live on


async def test_last_use_is_recorded(api: httpx.AsyncClient, clock: FixedClock) -> None:
    made = await _token(api, ["read"])

    async def last_used() -> str | None:
        items = (await api.get("/api/auth/tokens")).json()["items"]
        return next(t["last_used_at"] for t in items if t["id"] == made["id"])

    assert await last_used() is None
    await api.get("/api/apps", headers=_as(made))
    assert await last_used() == iso(clock.now())
    clock.set(clock.now() + timedelta(hours=1))
    await api.get("/api/apps", headers=_as(made))
    assert await last_used() == iso(clock.now())


async def test_tokens_of_another_workspace_are_out_of_reach(api: httpx.AsyncClient,
                                                            services: Services) -> None:
    other = await other_workspace(services)
    theirs = (await api.get("/api/auth/tokens", headers=other["headers"])).json()["items"]
    assert len(theirs) == 1
    problem_of(await api.delete(f"/api/auth/tokens/{theirs[0]['id']}"), 404)
    problem_of(await api.get("/api/auth/tokens", params={"user": other["member"]["id"]}), 404)
    ours = (await api.get("/api/auth/tokens")).json()["items"]
    problem_of(await api.delete(f"/api/auth/tokens/{ours[0]['id']}",
                                headers=other["headers"]), 404)
    assert (await api.get("/api/auth/tokens", headers=other["headers"])).status_code == 200
