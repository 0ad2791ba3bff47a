"""Editing a large draft piece by piece (field report, item 5): a save answers its revision,
its problems and what it changed — not the whole document unless asked; a JSON Patch
(RFC 6902) adds one list item without resending the list; ``If-Match`` keeps two builders
from overwriting each other."""

from __future__ import annotations

from typing import Any

from fixture_kit import problem_of
from sales_app import App, sales

JSON_PATCH = {"Content-Type": "application/json-patch+json"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
EDGE = {"from": "manager", "to": "done", "outcome": "timeout"}


async def draft(app: App) -> tuple[dict[str, Any], int]:
    response = await app.api.get(f"{app.base}/metadata/draft")
    assert response.status_code == 200, response.text
    return response.json(), int(response.headers["ETag"].strip('"'))


async def patch(app: App, body: Any, headers: dict[str, str], **params: str) -> Any:
    return await app.api.patch(f"{app.base}/metadata/draft", json=body, headers=headers,
                               params=params)


async def test_a_save_answers_revision_problems_and_changes_not_the_document(
        app: App) -> None:
    _, revision = await draft(app)
    doc = sales()
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}

    saved = await app.api.put(f"{app.base}/metadata/draft", json=doc)

    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert set(body) == {"revision", "problems", "changes"}
    assert body["revision"] == revision + 1
    assert saved.headers["ETag"] == f'"{body["revision"]}"'
    assert body["problems"] == []
    assert [c["path"] for c in body["changes"]] == ["entities.customer.fields.phone"]

    again = await patch(app, {"app": {"description": "x"}}, MERGE_PATCH, include="document")
    assert again.status_code == 200, again.text
    assert again.json()["revision"] == revision + 2
    assert again.json()["document"]["entities"]["customer"]["fields"]["phone"] == {
        "type": "phone"}
    assert again.json()["document"] == (await draft(app))[0]


async def test_a_json_patch_adds_one_flow_edge(app: App) -> None:
    before, revision = await draft(app)

    saved = await patch(app, [{"op": "add", "path": "/flows/approval/edges/-",
                               "value": EDGE}], JSON_PATCH)

    assert saved.status_code == 200, saved.text
    after, now = await draft(app)
    assert now == saved.json()["revision"] == revision + 1
    assert after["flows"]["approval"]["edges"] == [*before["flows"]["approval"]["edges"], EDGE]
    assert [c["path"] for c in saved.json()["changes"]] == ["flows.approval.edges"]
    # a timeout edge from a node that never times out is fine; nothing else changed
    assert saved.json()["problems"] == []


async def test_a_json_patch_is_all_or_nothing_and_names_the_failing_operation(
        app: App) -> None:
    before, revision = await draft(app)
    operations = [
        {"op": "add", "path": "/entities/customer/fields/phone", "value": {"type": "phone"}},
        {"op": "test", "path": "/app/label/en", "value": "Sales"},
        {"op": "remove", "path": "/entities/customer/fields/fax"}]

    refused = problem_of(await patch(app, operations, JSON_PATCH), 422)

    assert refused["errors"] == [{
        "field": "[2].path", "code": "json_patch",
        "message": "operation 2 (remove /entities/customer/fields/fax) cannot be applied: "
                   "the draft has no place there (a missing key, a list position out of "
                   "range, or a value inside text)"}]
    assert await draft(app) == (before, revision)

    failed_test = problem_of(await patch(app, [
        {"op": "test", "path": "/app/label/en", "value": "CRM"}], JSON_PATCH), 422)
    assert failed_test["errors"][0]["field"] == "[0].path"
    assert "test /app/label/en" in failed_test["errors"][0]["message"]

    not_an_operation = problem_of(await patch(app, [{"op": "add", "path": "/x"}], JSON_PATCH),
                                  422)
    assert not_an_operation["errors"][0]["field"] == "[0].value"
    not_a_list = problem_of(await patch(app, {"op": "add"}, JSON_PATCH), 422)
    assert "list of operations" in not_a_list["errors"][0]["message"]
    chinese = problem_of(await app.api.patch(
        f"{app.base}/metadata/draft", json=[{"op": "move", "path": "/a"}],
        headers={**JSON_PATCH, "Accept-Language": "zh-CN"}), 422)
    assert chinese["errors"][0]["message"] == "第 0 个操作（move）需要“from”"
    assert await draft(app) == (before, revision)


async def test_a_patch_of_another_media_type_is_refused(app: App) -> None:
    response = await app.api.patch(f"{app.base}/metadata/draft", content=b"{}",
                                   headers={"Content-Type": "text/plain"})
    body = problem_of(response, 415)
    assert "application/json-patch+json" in body["detail"]


async def test_if_match_keeps_two_builders_from_overwriting_each_other(app: App) -> None:
    _, revision = await draft(app)
    first = await patch(app, [{"op": "add", "path": "/entities/customer/fields/phone",
                               "value": {"type": "phone"}}],
                        {**JSON_PATCH, "If-Match": f'"{revision}"'})
    assert first.status_code == 200, first.text

    stale = await patch(app, {"entities": {"customer": {"fields": {"fax": {"type": "phone"}}}}},
                        {**MERGE_PATCH, "If-Match": f'"{revision}"'})
    body = problem_of(stale, 409)
    assert str(first.json()["revision"]) in body["detail"]
    stale_put = await app.api.put(f"{app.base}/metadata/draft", json=sales(),
                                  headers={"If-Match": str(revision)})
    problem_of(stale_put, 409)
    document, now = await draft(app)
    assert "fax" not in document["entities"]["customer"]["fields"]
    assert "phone" in document["entities"]["customer"]["fields"]

    fresh = await patch(app, {"entities": {"customer": {"fields": {"fax": {"type": "phone"}}}}},
                        {**MERGE_PATCH, "If-Match": f'"{now}"'})
    assert fresh.status_code == 200 and fresh.json()["revision"] == now + 1

    stale_discard = await app.api.delete(f"{app.base}/metadata/draft",
                                         headers={"If-Match": f'"{now}"'})
    problem_of(stale_discard, 409)
    discarded = await app.api.delete(f"{app.base}/metadata/draft",
                                     headers={"If-Match": f'"{now + 1}"'})
    assert discarded.status_code == 200 and discarded.json()["revision"] == now + 2
