"""Every metadata change leaves an entry: who, when, through which door, what changed —
and the trail outlives the app."""

from __future__ import annotations

from sales_app import App, sales


async def _trail(app: App, **params: int) -> dict:
    response = await app.api.get(f"{app.base}/metadata/audit", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_trail_names_actor_action_and_changes(app: App) -> None:
    doc = sales()
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}
    await app.api.put(f"{app.base}/metadata/draft", json=doc)
    await app.api.post(f"{app.base}/metadata/publish", json={"message": "phones"})
    await app.api.post(f"{app.base}/metadata/rollback", json={"version": 1})
    await app.api.patch(f"{app.base}/metadata/draft", json={"app": {"label": "Sales 2"}})
    await app.api.delete(f"{app.base}/metadata/draft")

    items = (await _trail(app))["items"]

    assert [(i["action"], i["version"]) for i in items] == [
        ("draft_discarded", None), ("draft_saved", None), ("rolled_back", 3),
        ("published", 2), ("draft_saved", None), ("created", 1)]
    assert all(i["actor"]["email"] == "admin@example.com" and i["source"] == "api"
               for i in items)
    assert items[3]["message"] == "phones"
    assert [c["summary"] for c in items[3]["changes"]] == ["field 'phone' added (phone)"]
    assert [c["summary"] for c in items[2]["changes"]] == [
        "field 'phone' removed (its data is kept)"]
    assert items[1]["changes"][0]["path"] == "app.label"
    assert items[0]["at"].startswith("2026-11-02")


async def test_the_trail_speaks_the_readers_language_and_pages(app: App) -> None:
    for n in range(3):
        await app.api.patch(f"{app.base}/metadata/draft", json={"app": {"label": f"S{n}"}})
    app.api.headers["Accept-Language"] = "zh-CN"

    first = await _trail(app, limit=2)
    rest = await _trail(app, limit=2, before=first["next_before"])

    assert len(first["items"]) == 2 and first["next_before"] is not None
    assert [i["action"] for i in rest["items"]] == ["draft_saved", "created"]
    assert rest["next_before"] is None
    assert first["items"][0]["changes"][0]["summary"] == "label：S1 → S2"


async def test_the_trail_outlives_the_app(app: App) -> None:
    assert (await app.api.delete(app.base)).status_code == 204

    items = (await _trail(app))["items"]

    assert [i["action"] for i in items] == ["deleted", "created"]
    assert items[0]["version"] == 1
