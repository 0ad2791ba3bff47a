"""What the attacks (Schemathesis, the validator and expression fuzzers) found, pinned down
over HTTP: each was a 500 or an answer the OpenAPI document did not declare."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
from fixture_kit import problem_of
from lab_app import LAB, lab_document

from loom.platform.apps.folder import write_zip


async def test_the_openapi_document_declares_every_refusal(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    assert document["components"]["schemas"]["Problem"]["required"][:3] == [
        "type", "title", "status"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path in ("/api/health", "/api/health/ready"):  # for anyone: no 401, 422
                assert set(operation["responses"]) == {"200", "503"}
                continue
            if path == "/api/health/live":
                assert set(operation["responses"]) == {"200"}
                continue
            for status in ("401", "422"):
                content = operation["responses"][status]["content"]
                assert list(content) == ["application/problem+json"], (method, path)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"}
            if "{app}" in path or "{" in path.replace("{app}", ""):
                assert "404" in operation["responses"], (method, path)


async def test_an_internal_operator_in_a_filter_is_refused(lab: httpx.AsyncClient) -> None:
    # "pluck" is a node the compiler makes for SUM(items.amount); written by hand it was
    # a 500 (AttributeError)
    response = await lab.get(f"{LAB}/sample", params={"filter": json.dumps({"pluck": []})})
    body = problem_of(response, 400)
    assert "pluck" in json.dumps(body, ensure_ascii=False)


async def test_an_action_kind_that_is_not_text_is_a_metadata_problem(
        api: httpx.AsyncClient) -> None:
    # in a flow's action node it was a 500 (TypeError: unhashable type: 'dict')
    kind = {"kind": "tag"}
    document = lab_document()
    document["rules"] = {"tag_it": {"entity": "sample", "trigger": {"on": "create"},
                                    "actions": [{"type": kind}]}}
    document["flows"] = {"stamp": {
        "entity": "sample", "start": {"on": "create"},
        "nodes": {"set": {"type": "action", "actions": [
            {"type": kind, "field": "title", "value": "x"}]}, "done": {"type": "end"}},
        "edges": [{"from": "start", "to": "set"}, {"from": "set", "to": "done"}]}}
    response = await api.post("/api/apps", json={"slug": "kinds", "metadata": document})
    fields = {e["field"] or "" for e in problem_of(response, 422)["errors"]}
    assert "rules.tag_it.actions[0].type" in fields
    assert any(field.startswith("flows.stamp.nodes.set") for field in fields), fields


def _damaged_archives() -> list[bytes]:
    exported = bytearray(write_zip(lab_document()))
    deflated = exported[:]
    deflated[60] ^= 0xFF  # inside the first entry's compressed data: a zlib error
    names = io.BytesIO()
    with zipfile.ZipFile(names, "w") as archive:
        archive.writestr("app.json", b"{}")
    bad_name = bytearray(names.getvalue())
    central = bad_name.rfind(b"PK\x01\x02")
    bad_name[central + 8] |= 0x08  # the UTF-8 flag on a name …
    bad_name[central + 9] |= 0x08
    bad_name[central + 46] = 0xFF  # … that is not UTF-8
    return [bytes(deflated), bytes(exported[: len(exported) // 2]), bytes(bad_name)]


async def test_a_damaged_archive_is_refused_not_a_server_error(
        lab: httpx.AsyncClient) -> None:
    for data in _damaged_archives():
        response = await lab.post("/api/apps/lab/metadata/import", content=data,
                                  headers={"Content-Type": "application/zip"})
        assert response.status_code in (413, 422), response.text
        assert response.headers["content-type"] == "application/problem+json"


async def test_ids_beyond_64_bits_are_invalid_not_a_server_error(
        lab: httpx.AsyncClient) -> None:
    huge = 2**63
    # A record id is looked up like any other text: beyond 64 bits it names no record
    for path in (f"{LAB}/sample/{huge}", f"{LAB}/sample/-{huge}"):
        problem_of(await lab.get(path), 404)
    # Platform rows (users, tokens, notifications, flows) have typed ids, bounded in the path
    for method, path in [("GET", f"/api/users/{huge}"), ("PATCH", f"/api/users/{huge}"),
                         ("DELETE", f"/api/auth/tokens/{huge}"),
                         ("POST", f"/api/notifications/{huge}/read"),
                         ("POST", f"/api/outbox/{huge}/retry"),
                         ("GET", f"/api/apps/lab/flow-instances/{huge}"),
                         ("POST", f"/api/apps/lab/flow-instances/{huge}/withdraw"),
                         ("POST", f"/api/apps/lab/flow-instances/{huge}/retry"),
                         ("GET", f"/api/apps/lab/flow-instances?record={huge}")]:
        response = await lab.request(method, path)
        problem_of(response, 422)


def _zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


NUL_REQUESTS: list[tuple[str, str, object]] = [
    # PostgreSQL text cannot hold U+0000: each of these was (or could be) a 500 there
    ("GET", "/api/outbox?status=%00", None),
    ("GET", "/api/apps/lab/tasks?entity=%00", None),
    ("GET", "/api/apps/lab/flow-instances?status=%00", None),
    ("GET", "/api/apps/lab/rule-runs?rule=%00", None),
    ("GET", "/api/apps/lab/rule-runs?entity=%00&%00=1", None),
    ("GET", f"{LAB}/sample?filter=" + json.dumps({"==": [{"var": "title"}, "a\u0000"]}),
     None),
    ("GET", f"{LAB}/sample?filter=" + json.dumps({"in": ["\u0000", {"var": "tags"}]}), None),
    ("POST", "/api/apps/lab/metadata/publish", {"message": "note\u0000"}),
    ("POST", "/api/apps", {"slug": "nul", "template": "crm\u0000"}),
    ("POST", "/api/apps", {"slug": "nul", "label": "x\u0000"}),
    ("POST", "/api/apps", {"slug": "nul", "metadata": {"app": {"label": {"en": "\u0000"}}}}),
    ("POST", "/api/apps/lab/rules/none/try", {"rule": {
        "entity": "sample", "trigger": {"on": "create"}, "condition": {
            "==": [{"var": "title"}, "\u0000"]}, "actions": []}, "preview": True}),
    ("POST", "/api/apps/lab/tasks/1/actions", {"action": "transfer", "user": "a\u0000@b.c"}),
    ("POST", "/api/apps/lab/tasks/1/actions", {"action": "complete", "comment": "\u0000"}),
    ("POST", "/api/apps/lab/flow-instances/1/withdraw", {"comment": "\u0000"}),
    ("POST", "/api/apps/lab/flow-instances/1/migrate", {"mapping": {"a\u0000": "b"}}),
    ("POST", "/api/apps/lab/metadata/upgrade", {"resolutions": {"app.label\u0000": "app"}}),
]


async def test_a_nul_character_anywhere_is_refused_not_a_server_error(
        lab: httpx.AsyncClient) -> None:
    for method, path, body in NUL_REQUESTS:
        response = await lab.request(method, path, json=body) if body is not None \
            else await lab.request(method, path)
        assert 400 <= response.status_code < 500, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    # the draft above (label with a NUL) is saved, as drafts may be unfinished, but it
    # does not publish
    assert (await lab.patch("/api/apps/lab/metadata/draft",
                            json={"app": {"label": "Lab\u0000"}})).status_code == 200
    body = problem_of(await lab.post("/api/apps/lab/metadata/publish", json={}), 422)
    assert any(e["field"] == "app.label" for e in body["errors"])
    assert (await lab.delete("/api/apps/lab/metadata/draft")).status_code == 200
    archive = _zip_of({"app.json": json.dumps({"label": "x\u0000"})})
    response = await lab.post("/api/apps/lab/metadata/import", content=archive,
                              headers={"Content-Type": "application/zip"})
    assert response.status_code == 200, response.text  # staged as the draft, like any import
    problem_of(await lab.post("/api/apps/lab/metadata/publish", json={}), 422)
