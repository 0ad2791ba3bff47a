"""Roll-up fields follow their child records: create, change, move, delete."""

from __future__ import annotations

from decimal import Decimal

import httpx
from fixture_kit import delete_read, if_match

DOC = {
    "app": {"label": "Rollups"},
    "entities": {
        "contract": {"label": {"zh-CN": "合同", "en": "Contract"}, "fields": {
            "name": {"type": "text"},
            "received": {"type": "rollup", "rollup": {
                "entity": "payment", "link_field": "contract", "field": "amount",
                "function": "sum"}},
            "payments_count": {"type": "rollup", "rollup": {
                "entity": "payment", "link_field": "contract", "function": "count"}},
            "last_paid": {"type": "rollup", "returns": "date", "rollup": {
                "entity": "payment", "link_field": "contract", "field": "paid_on",
                "function": "max"}},
            "payments": {"type": "subtable", "entity": "payment", "link_field": "contract"}}},
        "payment": {"label": {"zh-CN": "回款", "en": "Payment"}, "fields": {
            "contract": {"type": "lookup", "ref": "contract"},
            "amount": {"type": "currency"},
            "paid_on": {"type": "date"}}},
    },
}


async def _contract(api: httpx.AsyncClient, contract_id: int) -> dict:
    response = await api.get(f"/api/apps/roll/records/contract/{contract_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_rollups_follow_children(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/apps", json={"slug": "roll", "metadata": DOC})).status_code \
        == 201
    a = (await api.post("/api/apps/roll/records/contract", json={"name": "A"})).json()
    b = (await api.post("/api/apps/roll/records/contract", json={"name": "B"})).json()
    assert a["received"] == 0 and a["payments_count"] == 0 and a["last_paid"] is None

    payments = "/api/apps/roll/records/payment"
    p1 = (await api.post(payments, json={"contract": a["id"], "amount": "0.10",
                                         "paid_on": "2026-01-05"})).json()
    await api.post(payments + "/_bulk", json=[
        {"contract": a["id"], "amount": "0.20", "paid_on": "2026-02-01"},
        {"contract": b["id"], "amount": "100", "paid_on": "2026-03-01"}])
    first = await _contract(api, a["id"])
    assert Decimal(str(first["received"])) == Decimal("0.30")
    assert first["payments_count"] == 2
    assert first["last_paid"] == "2026-02-01"
    assert first["version"] == 3  # each payment updated the contract once

    moved = await api.patch(f"{payments}/{p1['id']}", json={"contract": b["id"]},
                            headers=if_match(p1))
    assert moved.status_code == 200, moved.text
    assert Decimal(str((await _contract(api, a["id"]))["received"])) == Decimal("0.20")
    assert Decimal(str((await _contract(api, b["id"]))["received"])) == Decimal("100.10")

    deleted = await api.delete(f"{payments}/{p1['id']}", headers=if_match(moved.json()))
    assert deleted.status_code == 200, deleted.text
    after = await _contract(api, b["id"])
    assert Decimal(str(after["received"])) == Decimal("100.00")
    assert after["payments_count"] == 1
    # restored from the recycle bin, the payment counts again
    restored = await api.post(f"/api/apps/roll/recycle-bin/{deleted.json()['recycle_bin_id']}"
                              "/restore")
    assert restored.status_code == 200, restored.text
    assert Decimal(str((await _contract(api, b["id"]))["received"])) == Decimal("100.10")
    deleted = await delete_read(api, f"{payments}/{p1['id']}")
    assert deleted.status_code == 200, deleted.text
    after = await _contract(api, b["id"])

    # a roll-up is computed, never written by a client
    ignored = await api.patch(f"/api/apps/roll/records/contract/{b['id']}",
                              json={"received": 5}, headers=if_match(after))
    assert Decimal(str(ignored.json()["received"])) == Decimal("100.00")

    # deleting the parent deletes its line items (subtable) without touching the parent twice
    assert (await delete_read(api, f"/api/apps/roll/records/contract/{b['id']}")
            ).status_code == 200
    left = (await api.get(payments)).json()["items"]
    assert [p["contract"] for p in left] == [a["id"]]

    history = (await api.get(f"/api/apps/roll/records/contract/{a['id']}/history")).json()
    assert history["items"][-1]["source"] == "system"
    old, new = history["items"][-1]["changes"]["received"]
    assert (Decimal(str(old)), Decimal(str(new))) == (Decimal("0.30"), Decimal("0.20"))
