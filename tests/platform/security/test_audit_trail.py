"""The record trail: every change with actor, time, source and old → new, sharing
included, in each record's history and exported as CSV for an administrator."""

from __future__ import annotations

import csv
import io

from company import Company
from fixture_kit import patch_read

BASE = "/api/apps/acct/records/customer"


async def test_changes_and_sharing_are_in_the_trail(company: Company) -> None:
    record = await company.customer("华为", "rep1")
    rep, boss = company.clients["rep1"], company.clients["boss"]
    assert (await patch_read(rep, f"{BASE}/{record}", {"notes": "预算有限"})).status_code == 200
    await boss.post(f"{BASE}/{record}/shares", json={"user": "desk@example.com"})
    await boss.delete(f"{BASE}/{record}/shares/{company.ids['desk']}")

    history = (await rep.get(f"{BASE}/{record}/history")).json()["items"]

    assert [h["action"] for h in history] == ["create", "update", "share", "unshare"]
    assert history[1]["changes"] == {"notes": ["n", "预算有限"]}
    assert history[1]["actor_id"] == company.ids["rep1"] and history[1]["source"] == "api"
    assert history[2]["changes"] == {"$shared_with": [None, "desk@example.com: read"]}
    assert "credit_limit" not in history[0]["changes"]  # hidden from the rep
    assert "credit_limit" in (await company.admin.get(f"{BASE}/{record}/history")
                              ).json()["items"][0]["changes"]


async def test_the_trail_exports_as_csv_for_administrators(company: Company) -> None:
    record = await company.customer("华为", "rep1")
    assert (await patch_read(company.clients["rep1"], f"{BASE}/{record}",
                             {"notes": "预算有限"})).status_code == 200

    exported = await company.admin.get("/api/apps/acct/audit", params={"format": "csv"})

    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    update = [r for r in rows if r["action"] == "update"]
    assert [(r["field"], r["old"], r["new"], r["actor_email"]) for r in update] == [
        ("notes", "n", "预算有限", "rep1@example.com")]
    assert {r["field"] for r in rows if r["action"] == "create"} >= {"name", "credit_limit"}
    paged = (await company.admin.get("/api/apps/acct/audit", params={"limit": 1})).json()
    assert len(paged["items"]) == 1 and paged["next_after"] == paged["items"][0]["id"]
    assert (await company.clients["audit"].get("/api/apps/acct/audit")).status_code == 403
