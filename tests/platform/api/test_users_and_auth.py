"""Users and tokens: administrators create users (manager by email, department by name);
everyone else is kept out of the admin endpoints; a failed login says one vague thing."""

from __future__ import annotations

import httpx
from fixture_kit import problem_of
from lab_app import LAB
from sqlalchemy import update

from loom.platform.services import Services
from loom.platform.storage.system_tables import users

ADMIN = "admin@example.com"


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/token", json={"email": email, "password": password})


async def as_user(anonymous: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await login(anonymous, email, password)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"].startswith("loom_")
    return {"authorization": f"Bearer {body['access_token']}"}


async def test_admins_create_users(api: httpx.AsyncClient) -> None:
    boss = await api.post("/api/users", json={
        "email": "Boss@Example.com", "name": " 王总 ", "password": "boss-password",
        "department": "销售部"})
    assert boss.status_code == 201, boss.text
    assert boss.json() == {"id": boss.json()["id"], "email": "boss@example.com",
                           "name": "王总", "is_admin": False, "active": True,
                           "manager": None, "department": "销售部", "locale": None}
    clerk = await api.post("/api/users", json={
        "email": "clerk@example.com", "name": "小李", "password": "clerk-password",
        "manager": "BOSS@example.com", "department": "销售部", "locale": "en"})
    assert clerk.status_code == 201, clerk.text
    assert (clerk.json()["manager"], clerk.json()["department"]) == (
        "boss@example.com", "销售部")
    listed = (await api.get("/api/users")).json()["items"]
    assert [u["email"] for u in listed] == [ADMIN, "boss@example.com", "clerk@example.com"]
    # the department was made once and is shared
    other = await api.post("/api/users", json={"email": "x@example.com", "name": "X",
                                               "department": "研发部"})
    assert other.json()["department"] == "研发部"

    refusals = [
        ({"email": "clerk@EXAMPLE.com", "name": "again"}, 409, "email"),
        ({"email": "nobody", "name": "n"}, 422, "email"),
        ({"email": "n@example.com", "name": "  "}, 422, "name"),
        ({"email": "n@example.com", "name": "n", "password": "short"}, 422, "password"),
        ({"email": "n@example.com", "name": "n", "manager": "ghost@example.com"}, 422,
         "manager"),
        ({"email": "n@example.com"}, 422, "name"),
        ({"email": "n@example.com", "name": "n", "is_admin": "perhaps"}, 422, "is_admin"),
        # what the columns cannot hold is refused, not sent to the database
        ({"email": "n\x00@example.com", "name": "n"}, 422, "email"),
        ({"email": "n@example.com", "name": "n\x00"}, 422, "name"),
        ({"email": "n@example.com", "name": "n", "department": "部\x00"}, 422, "department"),
        ({"email": "n@example.com", "name": "n", "manager": "boss\x00@example.com"}, 422,
         "manager"),
        ({"email": "n@example.com", "name": "长" * 201}, 422, "name"),
        ({"email": "n" * 310 + "@example.com", "name": "n"}, 422, "email"),
        ({"email": "n@example.com", "name": "n", "department": "部" * 201}, 422,
         "department"),
        ({"email": "n@example.com", "name": "n", "locale": "zh-Hans-CN-x"}, 422, "locale"),
    ]
    for body, status, field in refusals:
        refused = problem_of(await api.post("/api/users", json=body), status)
        assert field in [error["field"] for error in refused["errors"]], (body, refused)
    assert len((await api.get("/api/users")).json()["items"]) == 4


async def test_non_admins_are_kept_out(lab: httpx.AsyncClient) -> None:
    created = await lab.post("/api/users", json={
        "email": "clerk@example.com", "name": "小李", "password": "clerk-password"})
    assert created.status_code == 201
    clerk = await as_user(lab, "clerk@example.com", "clerk-password")
    refused = [
        ("GET", "/api/users", None), ("POST", "/api/users", {"email": "a@b.cn", "name": "a"}),
        ("POST", "/api/apps", {"slug": "mine", "metadata": {"app": {"label": "x"}}}),
        ("DELETE", "/api/apps/lab", None), ("GET", "/api/apps/lab/metadata/draft", None),
        ("POST", "/api/apps/lab/metadata/publish", {}),
        ("GET", f"{LAB}/sample", None), ("POST", f"{LAB}/sample", {"title": "x"}),
        ("POST", f"{LAB}/sample/_bulk", [{"title": "x"}]),
    ]
    for method, path, body in refused:
        response = await lab.request(method, path, json=body,
                                     headers={**clerk, "accept-language": "en"})
        problem = problem_of(response, 403)
        assert problem["type"] == "urn:loom:problem:permission-denied", path
    zh = problem_of(await lab.get("/api/users", headers=clerk), 403)
    assert zh["detail"] != problem["detail"]  # said in Chinese by default
    # nothing was created on the way (the client's own token is the admin's)
    assert len((await lab.get("/api/users")).json()["items"]) == 2
    assert (await lab.get(f"{LAB}/sample")).json()["items"] == []
    assert [a["slug"] for a in (await lab.get("/api/apps")).json()["items"]] == ["lab"]


async def test_a_made_admin_is_an_admin(api: httpx.AsyncClient,
                                        anonymous: httpx.AsyncClient) -> None:
    await api.post("/api/users", json={"email": "second@example.com", "name": "Second",
                                       "password": "second-password", "is_admin": True})
    second = await as_user(anonymous, "second@example.com", "second-password")
    response = await anonymous.post("/api/users", headers=second, json={
        "email": "third@example.com", "name": "Third"})
    assert response.status_code == 201, response.text


async def test_a_failed_login_says_one_vague_thing(api: httpx.AsyncClient,
                                                   anonymous: httpx.AsyncClient,
                                                   services: Services) -> None:
    await api.post("/api/users", json={"email": "clerk@example.com", "name": "小李",
                                       "password": "clerk-password"})
    await api.post("/api/users", json={"email": "nopass@example.com", "name": "无密码"})
    attempts = [("clerk@example.com", "wrong-password"), ("ghost@example.com", "whatever"),
                ("nopass@example.com", ""), ("nopass@example.com", "anything"),
                ("clerk@example.com", ""), ("", "clerk-password"),
                ("clerk@example.com", "CLERK-PASSWORD"), ("clerk\x00@example.com", "x"),
                ("clerk@example.com\x00", "clerk-password")]
    anonymous.headers["accept-language"] = "en"
    details = set()
    for email, password in attempts:
        response = await login(anonymous, email, password)
        refused = problem_of(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        details.add(refused["detail"])
    assert details == {"The email or password is wrong"}
    # the email is not case-sensitive, the password is
    assert (await login(anonymous, " CLERK@example.com ", "clerk-password")).status_code == 200
    for body in ({}, {"email": "clerk@example.com"}, [], {"email": 1, "password": 2}):
        problem_of(await anonymous.post("/api/auth/token", json=body), 422)
    problem_of(await anonymous.post("/api/auth/token", content=b"{",
                                    headers={"content-type": "application/json"}), 422)

    # a deactivated user can neither log in nor use a token they already have
    clerk = await as_user(anonymous, "clerk@example.com", "clerk-password")
    async with services.database.write() as conn:
        await conn.execute(update(users).where(users.c.email == "clerk@example.com")
                           .values(active=False))
    problem_of(await login(anonymous, "clerk@example.com", "clerk-password"), 401)
    problem_of(await anonymous.get("/api/apps", headers=clerk), 401)
