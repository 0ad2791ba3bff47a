"""The HTTP edge: whatever a client sends — broken JSON, the wrong shape, too much of it,
odd paths, no token — the answer is a clear 4xx problem+json, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fixture_kit import if_match, problem_of
from lab_app import LAB, create

from loom.platform.clock import FixedClock
from loom.platform.services import Services

SAMPLE = f"{LAB}/sample"
JSON = {"content-type": "application/json", "accept-language": "en"}


async def test_bodies_that_are_not_json_objects(lab: httpx.AsyncClient) -> None:
    record = await create(lab, "sample", {"title": "x"})
    record_url = f"{SAMPLE}/{record['id']}"
    cases = {
        b'{"title": "x",}': "The request body is not valid JSON: Expecting property name "
                            "enclosed in double quotes (line 1, column 15)",
        b'{"title": "x"': "The request body is not valid JSON: Expecting ',' delimiter "
                          "(line 1, column 14)",
        b"": "The request needs a JSON body",
        b"   \n": "The request needs a JSON body",
        b'{"title": NaN}': "The request body is not valid JSON: NaN is not a JSON value",
        b'{"price": -Infinity}': "The request body is not valid JSON: -Infinity is not a "
                                 "JSON value",
        b"\xc3\x28": "The request body is not UTF-8 text",
        b"[" * 100_000 + b"]" * 100_000: "The request body is nested too deeply",
        b"[1]": "A record must be a JSON object of field values",
        b'"title"': "A record must be a JSON object of field values",
        b"null": "A record must be a JSON object of field values",
        b"42": "A record must be a JSON object of field values",
        b"title=x": "The request body is not valid JSON: Expecting value (line 1, column 1)",
        b"<sample><title>x</title></sample>": "The request body is not valid JSON: "
                                              "Expecting value (line 1, column 1)",
    }
    for body, detail in cases.items():
        for method, url in (("POST", SAMPLE), ("PATCH", record_url)):
            response = await lab.request(method, url, content=body,
                                         headers={**JSON, **if_match(record)})
            assert problem_of(response, 400)["detail"] == detail, (method, body[:20])
    # the content type a form or a file upload would say makes no difference: still JSON
    for content_type in ("application/x-www-form-urlencoded", "text/plain"):
        response = await lab.post(SAMPLE, content=b"title=x",
                                  headers={"content-type": content_type})
        problem_of(response, 400)
    assert (await lab.get(record_url)).json()["version"] == 1


async def test_too_large_bodies_are_refused(lab: httpx.AsyncClient, services: Services,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services.settings, "max_body_bytes", 1000)
    small = await lab.post(SAMPLE, json={"title": "fits"})
    assert small.status_code == 201, small.text
    big = {"title": "x", "notes": "长" * 400}  # 1,200 bytes of UTF-8
    for path in (SAMPLE, f"{SAMPLE}/_bulk", "/api/users", "/api/apps", "/api/auth/token"):
        refused = problem_of(await lab.post(path, json=[big] if "bulk" in path else big), 413)
        assert refused["detail"] == "The request body is larger than 1000 bytes"

    # a body sent in chunks, without a declared length, is cut off at the limit
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "x", "notes": "'
        for n in range(1000):
            sent.append(n)
            yield b"a" * 100
        yield b'"}'

    for path in (SAMPLE, "/api/auth/token"):
        sent.clear()
        response = await lab.post(path, content=chunks(), headers=JSON)
        assert "content-length" not in response.request.headers
        problem_of(response, 413)
        assert len(sent) < 20  # refused while reading, not after taking it all in
    listed = await lab.get(SAMPLE)
    assert [item["title"] for item in listed.json()["items"]] == ["fits"]


async def test_paths_and_methods(lab: httpx.AsyncClient) -> None:
    record = await create(lab, "sample", {"title": "x"})
    en = {"accept-language": "en"}
    not_integers = ("abc", "1.5", "1e3", "%20")
    for record_id in not_integers:
        refused = problem_of(await lab.get(f"{SAMPLE}/{record_id}"), 422)
        assert refused["errors"][0]["field"] == "path.record_id"
    for record_id in ("0", "-1", str(2**63), "9" * 40, str(record["id"] + 1)):
        for method in ("GET", "PATCH", "DELETE"):
            body = {"json": {"title": "y"}} if method == "PATCH" else {}
            response = await lab.request(method, f"{SAMPLE}/{record_id}",
                                         headers={**en, **if_match(1)}, **body)
            assert problem_of(response, 404)["detail"] == \
                f"There is no Sample with id {record_id}"
        problem_of(await lab.get(f"{SAMPLE}/{record_id}/history"), 404)
    unknown = {
        "/api/apps/nope/records/sample": "There is no app 'nope'",
        f"{LAB}/nope": "The app lab has no entity 'nope'",
        f"{LAB}/nope/1": "The app lab has no entity 'nope'",
        f"{LAB}/nope/_bulk": "The app lab has no entity 'nope'",
        "/api/apps/nope/openapi.json": "There is no app 'nope'",
    }
    for path, detail in unknown.items():
        method = "POST" if path.endswith("_bulk") else "GET"
        response = await lab.request(method, path, headers=en,
                                     json=[] if method == "POST" else None)
        assert problem_of(response, 404)["detail"] == detail, path
    for path in ("/api/apps/lab%00/records/sample", f"{LAB}/sample%00", "/api/apps/%00",
                 f"{SAMPLE}/%00", "/api/apps/lab%00/openapi.json"):
        refused = await lab.get(path)
        assert refused.status_code in (400, 404, 422), path
        problem_of(refused, refused.status_code)
    for version in ("0", "-1", str(2**31), "9" * 30, "v1"):
        refused = problem_of(await lab.get(f"/api/apps/lab/metadata/versions/{version}"), 422)
        assert refused["errors"][0]["field"] == "path.version"
    problem_of(await lab.get("/api/apps/lab/metadata/versions/2"), 404)
    problem_of(await lab.get("/api/nothing-here"), 404)
    problem_of(await lab.put(f"{SAMPLE}/{record['id']}", json={"title": "y"}), 405)
    problem_of(await lab.delete(SAMPLE), 405)


async def test_tokens(anonymous: httpx.AsyncClient, lab: httpx.AsyncClient,
                      clock: FixedClock) -> None:
    token = lab.headers["authorization"]
    for headers in ({}, {"authorization": "Bearer"}, {"authorization": "Bearer nope"},
                    {"authorization": "Basic YWRtaW46YWRtaW4="},
                    {"authorization": token.replace("Bearer ", "")},
                    {"authorization": token + "x"}):
        anonymous.headers.pop("authorization", None)
        for method, path in (("GET", SAMPLE), ("POST", SAMPLE), ("GET", "/api/apps"),
                             ("GET", "/api/users"), ("GET", f"{SAMPLE}/1/history")):
            response = await anonymous.request(method, path, headers=headers,
                                               json={"title": "x"} if method == "POST" else None)
            refused = problem_of(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"
            assert refused["type"] == "urn:loom:problem:not-authenticated"
    anonymous.headers["authorization"] = token
    assert (await anonymous.get(SAMPLE)).status_code == 200
    clock.set(clock.now() + timedelta(days=31))  # login tokens last 30 days
    expired = await anonymous.get(SAMPLE, headers={"accept-language": "en"})
    assert problem_of(expired, 401)["detail"] == "The token is unknown, expired or revoked"


async def test_health_needs_no_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_chinese_text_round_trips(lab: httpx.AsyncClient) -> None:
    name = "北京字节跳动科技有限公司 · 𠮷野家 😀"
    record = await create(lab, "customer", {"name": name, "region": "华北"})
    response = await lab.get(f"{LAB}/customer/{record['id']}")
    assert name.encode() in response.content  # UTF-8 as is, not \\u escapes
    assert response.json()["name"] == name
    listed = await lab.get(f"{LAB}/customer", params={"sort": "-name", "fields": "name"})
    assert listed.json()["items"][0]["name"] == name
    # the cursor of a Chinese sort value works too
    await create(lab, "customer", {"name": "阿里巴巴"})
    page = (await lab.get(f"{LAB}/customer", params={"sort": "name", "limit": 1})).json()
    rest = await lab.get(f"{LAB}/customer", params={"sort": "name", "limit": 1,
                                                    "cursor": page["next_cursor"]})
    assert {page["items"][0]["name"], rest.json()["items"][0]["name"]} == {name, "阿里巴巴"}
    history = (await lab.get(f"{LAB}/customer/{record['id']}/history")).json()
    assert history["items"][0]["changes"]["name"] == [None, name]
    refused = problem_of(await lab.post(f"{LAB}/customer", json={"name": name}), 422)
    assert refused["errors"][0]["message"] == f"名称“{name}”已被其他记录使用"


async def test_request_ids_are_echoed(lab: httpx.AsyncClient) -> None:
    given = await lab.get(SAMPLE, headers={"x-request-id": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    refused = await lab.get(f"{SAMPLE}/0", headers={"x-request-id": "trace-43"})
    assert problem_of(refused, 404)["request_id"] == "trace-43"
    made_up = await lab.get(SAMPLE, headers={"x-request-id": "x" * 200})
    assert made_up.headers["x-request-id"] != "x" * 200
