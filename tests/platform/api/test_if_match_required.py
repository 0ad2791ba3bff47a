"""Last write never silently wins: changing or deleting a record needs the version the
client read (``If-Match``), else 428 saying how — unless the app turns that off
(``"require_if_match": false`` in app.json). Record actions are commands on the record as
it is now, guarded by their condition: they need no version."""

from __future__ import annotations

import copy
from typing import Any

import httpx
from fixture_kit import if_match, problem_of
from lab_app import LAB, create, lab_document


async def test_a_change_or_delete_without_if_match_is_refused(lab: httpx.AsyncClient) -> None:
    record = await create(lab, "customer", {"name": "华为"})
    url = f"{LAB}/customer/{record['id']}"

    for locale, words in (("en", 'Send the version you are changing: If-Match: "<version>"'),
                          ("zh-CN", '请发送您要修改的版本：If-Match: "<版本号>"')):
        for method in ("PATCH", "DELETE"):
            refused = problem_of(await lab.request(
                method, url, json={"region": "east"} if method == "PATCH" else None,
                headers={"accept-language": locale}), 428)
            assert refused["type"] == "urn:loom:problem:precondition-required"
            assert refused["detail"].startswith(words), refused["detail"]
            assert [(e["field"], e["code"]) for e in refused["errors"]] == [
                ("If-Match", "if_match_required")]

    stored = await lab.get(url)
    assert (stored.json()["region"], stored.json()["version"]) == (None, 1)
    changed = await lab.patch(url, json={"region": "east"},
                              headers={"If-Match": stored.headers["ETag"]})
    assert changed.status_code == 200, changed.text
    assert (await lab.delete(url, headers=if_match(changed.json()))).status_code == 200


async def test_the_app_may_let_changes_through_without_a_version(
        api: httpx.AsyncClient) -> None:
    document = copy.deepcopy(lab_document())
    document["app"]["require_if_match"] = False
    made = await api.post("/api/apps", json={"slug": "loose", "metadata": document})
    assert made.status_code == 201, made.text
    base = "/api/apps/loose/records/customer"
    record = (await api.post(base, json={"name": "华为"})).json()
    url = f"{base}/{record['id']}"

    changed = await api.patch(url, json={"region": "east"})
    again = await api.patch(url, json={"region": "north"})

    assert (changed.status_code, again.status_code) == (200, 200), again.text
    assert again.json()["version"] == 3
    # a version that is sent is still checked
    problem_of(await api.patch(url, json={"region": "x"}, headers=if_match(1)), 409)
    assert (await api.delete(url)).status_code == 200
    spec = (await api.get("/api/apps/loose/openapi.json")).json()
    assert spec["paths"][f"{base}/{{record_id}}"]["patch"]["parameters"][0]["required"] is False
    assert (await api.get("/api/apps/loose/metadata")).json()["app"][
        "require_if_match"] is False


async def test_the_setting_is_checked(api: httpx.AsyncClient) -> None:
    document = copy.deepcopy(lab_document())
    document["app"]["require_if_match"] = "sometimes"
    refused = problem_of(await api.post("/api/apps", json={"slug": "odd", "metadata": document},
                                        headers={"accept-language": "en"}), 422)
    assert any("require_if_match" in (e["field"] or "") for e in refused["errors"]), refused


async def test_the_documents_say_so(lab: httpx.AsyncClient) -> None:
    app = (await lab.get("/api/apps/lab/openapi.json")).json()
    item = app["paths"][f"{LAB}/sample/{{record_id}}"]
    for method in ("patch", "delete"):
        [header] = item[method]["parameters"]
        assert (header["name"], header["in"], header["required"]) == ("If-Match", "header",
                                                                      True)
        assert "428" in item[method]["responses"]
    def answer(operation: dict[str, Any]) -> dict[str, Any]:
        reference = operation["responses"]["200"]["content"]["application/json"]["schema"]
        return app["components"]["schemas"][reference["$ref"].rsplit("/", 1)[-1]]

    assert set(answer(item["delete"])["properties"]) >= {"recycle_bin_id", "deletes", "clears"}
    impact = app["paths"][f"{LAB}/sample/{{record_id}}/delete-impact"]["get"]
    assert set(answer(impact)["properties"]) >= {"allowed", "deletes", "clears", "restricts",
                                                 "named_by"}
    platform = (await lab.get("/openapi.json")).json()
    record = platform["paths"]["/api/apps/{app}/records/{entity}/{record_id}"]
    for method in ("patch", "delete"):
        assert "428" in record[method]["responses"]
        assert any(p["name"] == "If-Match" for p in record[method]["parameters"])
    assert "/api/apps/{app}/recycle-bin/{item_id}/restore" in platform["paths"]
