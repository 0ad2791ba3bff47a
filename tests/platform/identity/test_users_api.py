"""One user: read (admins: anyone; people: themselves) and changed by administrators —
name, manager, department, language, admin rights, active — with no way for an admin to
lock themselves out, no manager circles, and no reach into another workspace."""

from __future__ import annotations

import httpx
from fixture_kit import problem_of
from identity_api import EN, add_user, bearer, fields_of, other_workspace, sign_in

from loom.platform.services import Services


async def test_reading_one_user(api: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    clerk = await add_user(api, "clerk@example.com", "clerk-password", department="销售部")
    other = await add_user(api, "other@example.com", "other-password")
    assert (await api.get(f"/api/users/{clerk['id']}")).json() == clerk
    headers = await bearer(anonymous, "clerk@example.com", "clerk-password")
    assert (await anonymous.get(f"/api/users/{clerk['id']}", headers=headers)).json() == clerk
    problem_of(await anonymous.get(f"/api/users/{other['id']}", headers=headers), 403)
    problem_of(await api.get("/api/users/99999"), 404)
    # ids start at 1: zero is not a user id at all
    problem_of(await api.get("/api/users/0"), 422)
    problem_of(await api.get("/api/users/abc"), 422)


async def test_changing_a_user(api: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    boss = await add_user(api, "boss@example.com", "boss-password")
    clerk = await add_user(api, "clerk@example.com", "clerk-password")
    url = f"/api/users/{clerk['id']}"
    changed = await api.patch(url, json={"name": " 小李 ", "manager": "BOSS@example.com",
                                         "department": "销售部", "locale": "en"})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**clerk, "name": "小李", "manager": "boss@example.com",
                              "department": "销售部", "locale": "en"}
    # only what is sent changes; null clears
    cleared = (await api.patch(url, json={"manager": None, "department": None})).json()
    assert (cleared["name"], cleared["manager"], cleared["department"], cleared["locale"]) \
        == ("小李", None, None, "en")
    assert (await api.patch(url, json={})).json() == cleared

    promoted = (await api.patch(url, json={"is_admin": True})).json()
    assert promoted["is_admin"] is True
    clerk_headers = await bearer(anonymous, "clerk@example.com", "clerk-password")
    assert (await anonymous.get("/api/users", headers=clerk_headers)).status_code == 200
    await api.patch(url, json={"is_admin": False})
    problem_of(await anonymous.get("/api/users", headers=clerk_headers), 403)
    problem_of(await anonymous.patch(f"/api/users/{boss['id']}", headers=clerk_headers,
                                     json={"name": "x"}), 403)

    # deactivating through PATCH ends the tokens too; reactivating lets them sign in again
    assert (await api.patch(url, json={"active": False})).json()["active"] is False
    problem_of(await anonymous.get("/api/apps", headers=clerk_headers), 401)
    problem_of(await sign_in(anonymous, "clerk@example.com", "clerk-password"), 401)
    assert (await api.patch(url, json={"active": True})).json()["active"] is True
    assert (await sign_in(anonymous, "clerk@example.com", "clerk-password")).status_code \
        == 200
    problem_of(await anonymous.get("/api/apps", headers=clerk_headers), 401)  # still revoked


async def test_refused_changes(api: httpx.AsyncClient) -> None:
    boss = await add_user(api, "boss@example.com", "boss-password")
    clerk = await add_user(api, "clerk@example.com", "clerk-password",
                           manager="boss@example.com")
    intern = await add_user(api, "intern@example.com", "intern-password",
                            manager="clerk@example.com")
    admin = (await api.get("/api/users")).json()["items"][0]
    boss_url = f"/api/users/{boss['id']}"
    cases = [
        ({"manager": "boss@example.com"}, "manager",
         "A user cannot be their own manager"),
        ({"manager": "intern@example.com"}, "manager",
         "intern@example.com already reports to this user (directly or not): a circle"),
        ({"manager": "ghost@example.com"}, "manager", "There is no active user "
                                                      "ghost@example.com"),
        ({"locale": "fr"}, "locale", "The language must be one of: zh-CN, en"),
        ({"name": "  "}, "name", "A name is required"),
        ({"name": None}, "name", "A name is required"),
        ({"name": "长" * 201}, "name", "At most 200 characters"),
        ({"department": "部\x00"}, "department", "Must not contain a NUL character"),
        ({"is_admin": None}, "is_admin", "is_admin must be true or false"),
    ]
    for body, field, message in cases:
        refused = problem_of(await api.patch(boss_url, json=body, headers=EN), 422)
        assert [(e["field"], e["message"]) for e in refused["errors"]] == [(field, message)], \
            body
    for body in ({"email": "new@example.com"}, {"password": "a-long-password"},
                 {"is_admin": "perhaps"}, []):
        problem_of(await api.patch(boss_url, json=body), 422)
    # an administrator cannot lock themselves out
    own = f"/api/users/{admin['id']}"
    assert problem_of(await api.patch(own, json={"is_admin": False}, headers=EN),
                      409)["detail"].startswith("You cannot take away your own administrator")
    problem_of(await api.patch(own, json={"active": False}), 409)
    # nothing was changed by any of it
    assert (await api.get(boss_url)).json() == boss
    assert (await api.get(f"/api/users/{intern['id']}")).json()["manager"] == \
        "clerk@example.com"
    assert (await api.get(own)).json()["is_admin"] is True
    assert clerk["manager"] == "boss@example.com"


async def test_another_workspace_is_out_of_reach(api: httpx.AsyncClient,
                                                 services: Services) -> None:
    ours = await add_user(api, "clerk@example.com", "clerk-password")
    other = await other_workspace(services)
    theirs = other["member"]["id"]
    missing = {}
    for user in (theirs, 99999):
        # the same answer for their ids as for ids that do not exist: nothing to learn
        for method, path, body in (("GET", f"/api/users/{user}", None),
                                   ("PATCH", f"/api/users/{user}", {"name": "pwned"}),
                                   ("POST", f"/api/users/{user}/deactivate", None)):
            response = await api.request(method, path, json=body, headers=EN)
            missing.setdefault((method, user), problem_of(response, 404)["detail"])
    assert missing[("GET", theirs)] == f"There is no user {theirs}"
    # their admin sees only their workspace, and cannot reach ours either
    listed = (await api.get("/api/users", headers=other["headers"])).json()["items"]
    assert sorted(u["email"] for u in listed) == ["member@other.example", "root@other.example"]
    problem_of(await api.get(f"/api/users/{ours['id']}", headers=other["headers"]), 404)
    problem_of(await api.patch(f"/api/users/{ours['id']}", headers=other["headers"],
                               json={"is_admin": True}), 404)
    # a manager from another workspace is refused, not linked
    refused = problem_of(await api.patch(f"/api/users/{ours['id']}",
                                         json={"manager": "member@other.example"}), 422)
    assert fields_of(refused) == ["manager"]
    mine = (await api.get(f"/api/users/{ours['id']}")).json()
    assert (mine["manager"], mine["is_admin"]) == (None, False)
    theirs_now = (await api.get(f"/api/users/{theirs}", headers=other["headers"])).json()
    assert (theirs_now["name"], theirs_now["active"]) == ("Member", True)
