"""The security trail: every change to people and their rights — added, edited (old → new),
made administrator, deactivated with their work handed over — every API token issued or
revoked and every password changed or reset, with who did it, when and through which door;
for administrators only, per workspace, as JSON or CSV, and never holding a secret."""

from __future__ import annotations

import csv
import io
import json
import re

import httpx
from fixture_kit import problem_of
from identity_api import ADMIN, bearer, other_workspace

from loom.platform.services import Services

TRAIL = "/api/security-audit"


async def test_changes_to_people_tokens_and_passwords_are_kept(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient, services: Services) -> None:
    made = await api.post("/api/users", json={"email": "Lina@example.com", "name": "李娜",
                                              "password": "first-password-9",
                                              "department": "华东销售部"})
    assert made.status_code == 201, made.text
    lina = made.json()["id"]
    assert (await api.post("/api/users", json={"email": "wang@example.com", "name": "王芳",
                                               "password": "wang-password-9"})).status_code \
        == 201
    promoted = await api.patch(f"/api/users/{lina}", json={"is_admin": True, "name": "李娜"})
    assert promoted.status_code == 200, promoted.text
    headers = await bearer(anonymous, "lina@example.com", "first-password-9")
    issued = await anonymous.post("/api/auth/tokens", headers=headers,
                                  json={"name": "ERP 同步", "scopes": ["read"]})
    assert issued.status_code == 201, issued.text
    secret = issued.json()["token"]
    changed = await anonymous.post("/api/auth/password", headers=headers, json={
        "current": "first-password-9", "new": "second-password-9"})
    assert changed.status_code == 204, changed.text
    revoked = await api.delete(f"/api/auth/tokens/{issued.json()['id']}")
    assert revoked.status_code == 204
    gone = await api.post(f"/api/users/{lina}/deactivate",
                          json={"reassign_to": "wang@example.com"})
    assert gone.status_code == 200, gone.text

    trail = await api.get(TRAIL, params={"user": lina})

    assert trail.status_code == 200, trail.text
    entries = trail.json()["items"]
    assert [e["action"] for e in entries] == [
        "user_created", "user_changed", "token_issued", "password_changed", "token_revoked",
        "user_deactivated"]
    created, promoted_entry, token, password, token_gone, deactivated = entries
    assert created["actor_email"] == ADMIN and created["source"] == "api"
    assert created["user_email"] == "lina@example.com"
    assert created["changes"]["email"] == [None, "lina@example.com"]
    assert created["changes"]["department"] == [None, "华东销售部"]
    assert promoted_entry["changes"] == {"is_admin": [False, True]}  # the name did not change
    assert token["actor_email"] == "lina@example.com"
    assert token["changes"]["token"][1]["name"] == "ERP 同步"
    assert token["changes"]["token"][1]["scopes"] == ["read"]
    assert (password["actor_email"], password["changes"]) == ("lina@example.com", {})
    assert token_gone["actor_email"] == ADMIN
    assert deactivated["changes"]["active"] == [True, False]
    assert deactivated["changes"]["reassigned_to"] == [None, "wang@example.com"]
    # no secret anywhere: neither the token nor a password nor a hash
    text = json.dumps(trail.json(), ensure_ascii=False)
    for forbidden in (secret, "first-password-9", "second-password-9", "$argon2"):
        assert forbidden not in text

    exported = await api.get(TRAIL, params={"user": lina, "format": "csv"})
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {"action": "user_changed", "field": "is_admin", "old": "false", "new": "true"} \
        .items() <= rows[[r["action"] for r in rows].index("user_changed")].items()
    assert secret not in exported.text


async def test_the_trail_is_the_workspaces_and_for_administrators_only(
        api: httpx.AsyncClient, anonymous: httpx.AsyncClient, services: Services) -> None:
    await api.post("/api/users", json={"email": "clerk@example.com", "name": "Clerk",
                                       "password": "clerk-password-9"})
    other = await other_workspace(services)  # its people were added there, not here

    ours = (await api.get(TRAIL)).json()["items"]
    assert "clerk@example.com" in {e["user_email"] for e in ours}
    assert not {"root@other.example", "member@other.example"} & {
        e["user_email"] for e in ours}
    theirs = (await anonymous.get(TRAIL, headers=other["headers"])).json()["items"]
    assert {e["user_email"] for e in theirs} == {"root@other.example",
                                                  "member@other.example"}
    assert all(e["source"] == "system" and e["actor_id"] is None for e in theirs)

    clerk = await bearer(anonymous, "clerk@example.com", "clerk-password-9")
    problem_of(await anonymous.get(TRAIL, headers=clerk), 403)
    problem_of(await anonymous.get(TRAIL, headers={"authorization": ""}), 401)
    problem_of(await api.get(TRAIL, params={"limit": 0}), 422)

    first = await api.get(TRAIL, params={"limit": 1})
    assert len(first.json()["items"]) == 1 and first.json()["next_after"]
    rest = await api.get(TRAIL, params={"after": first.json()["next_after"]})
    assert [e["id"] for e in rest.json()["items"]] == [e["id"] for e in ours[1:]]
    assert all(re.match(r"\d{4}-\d\d-\d\dT", e["at"]) for e in ours)
