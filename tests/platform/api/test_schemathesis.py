"""Proof by attack: Schemathesis against the live OpenAPI documents — the platform's
(``/openapi.json``) and an app's record endpoints (``/api/apps/{app}/openapi.json``) —
authenticated as the administrator, on every database under test. Valid and deliberately
invalid requests alike must never get a 5xx, and every answer must be one the document
declares: its status code, its content type, its headers and its body's schema.

The budget is bounded (a fixed number of cases per operation, derandomized), so a run is
repeatable and takes a minute or two per database."""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import strategies as st
from lab_app import LAB, create, lab_document
from openapi_attack import AttackReport, Budget, attack, load_schema

from loom.platform import worker_heartbeat as heartbeat
from loom.platform.apps.folder import write_zip
from loom.platform.services import Services

ADMIN_EMAIL = "admin@example.com"  # the first administrator of tests/conftest.py
ENTITIES = sorted(lab_document()["entities"])
# run last, in this order: what destroys the app the others use, then what may end the
# caller's own session
CALLER_LAST = ("DELETE /api/apps/{app}", "POST /api/auth/password", "DELETE /api/auth/session",
               "POST /api/auth/logout")


@st.composite
def zip_archives(draw: st.DrawFn) -> bytes:
    """Bodies for the metadata import: real exports, exports with bytes flipped or cut
    short, hand-made archives with odd entries, and plain garbage."""
    exported = write_zip(lab_document())
    kind = draw(st.sampled_from(["export", "flipped", "cut", "entries", "garbage"]))
    if kind == "export":
        return exported
    if kind == "flipped":
        data = bytearray(exported)
        for position in draw(st.lists(st.integers(0, len(data) - 1), min_size=1,
                                      max_size=8)):
            data[position] ^= draw(st.integers(1, 255))
        return bytes(data)
    if kind == "cut":
        return exported[:draw(st.integers(0, len(exported) - 1))]
    if kind == "garbage":
        return draw(st.binary(max_size=300))
    buffer = io.BytesIO()
    names = st.sampled_from(["app.json", "entities/lead.json", "x/app.json", "../app.json",
                             "/etc/app.json", "forms/f.json", "notes.txt", "entities/.json",
                             "__MACOSX/._app.json", "views/v.json"])
    contents = st.one_of(st.binary(max_size=60), st.sampled_from([
        b"{}", b"[]", b"null", b'{"label": "x"}', b'{"fields": {"a": {"type": "text"}}}',
        b"{\"a\": 1e999}", b"NaN", "{\"标签\": \"线索\"}".encode()]))
    with zipfile.ZipFile(buffer, "w", draw(st.sampled_from(
            [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as archive:
        for name, content in draw(st.lists(st.tuples(names, contents), max_size=5,
                                           unique_by=lambda entry: entry[0])):
            archive.writestr(name, content)
    return buffer.getvalue()


# the import's body as documented: the archive's bytes (application/octet-stream)
schemathesis.openapi.media_type("application/octet-stream", zip_archives())


async def _seed(api: httpx.AsyncClient) -> dict[str, list[int]]:
    """A few records of each kind, so generated requests also reach existing ones."""
    customer = await create(api, "customer", {"name": "华为", "region": "east",
                                              "short_name": "HW"})
    contract = await create(api, "contract", {"title": "Framework"})
    await create(api, "contract_line", {"contract": contract["id"], "amount": "100.50"})
    await create(api, "contact", {"name": "Li", "customer": customer["id"]})
    await create(api, "note", {"text": "hello", "customer": customer["id"]})
    visit = await create(api, "visit", {"topic": "demo", "customer": customer["id"]})
    await create(api, "visit_report", {"summary": "ok", "visit": visit["id"]})
    await create(api, "sample", {"title": "S1", "code": "S-1", "quantity": 3,
                                 "price": "9.99", "customer": customer["id"]})
    await create(api, "sample", {"title": "S2", "code": "S-2"})
    # the first of each kind, a sample, none; changed as read (their first version)
    return {"record_id": [1, 2, 999_999], "If-Match": ['"1"']}


async def _attack(api: httpx.AsyncClient, document: dict[str, Any], *,
                  known: dict[str, list[Any]], budget: Budget,
                  last: tuple[str, ...] = ()) -> AttackReport:
    spare = await _the_callers_own(api)
    schema = load_schema(document)
    loop = asyncio.get_running_loop()
    return await asyncio.to_thread(attack, api, loop, schema, known=known, budget=budget,
                                   last=last, spare=spare)


async def _the_callers_own(api: httpx.AsyncClient) -> dict[str, list[int]]:
    """The administrator's user and tokens: the attack must not lock its caller out (a
    deactivated admin or a revoked token would make every later answer a 401)."""
    people = (await api.get("/api/users")).json()["items"]
    tokens = (await api.get("/api/auth/tokens")).json()["items"]
    assert tokens, "the administrator has no token to spare"
    return {"user_id": [p["id"] for p in people if p["email"] == ADMIN_EMAIL],
            "token_id": [token["id"] for token in tokens]}


def _assert_clean(report: AttackReport, *, succeeding: list[str]) -> None:
    """No failure; and the attack got in: no operation was only ever refused for the
    caller (a broken token would make every answer a documented 401), and the operations
    in ``succeeding`` succeeded at least once."""
    print(report.summary())
    assert report.requests, "Schemathesis found no operation to call"
    assert not report.failures, "\n\n".join(report.failures)
    shut_out = [label for label, codes in report.statuses.items() if codes <= {401, 403}]
    assert not shut_out, f"only ever refused: {shut_out}"
    never = [label for label in succeeding
             if not any(code < 300 for code in report.statuses.get(label, ()))]
    assert not never, f"never succeeded: {never}"


@pytest.fixture
async def seeded(api: httpx.AsyncClient) -> dict[str, list[int]]:
    response = await api.post("/api/apps", json={"slug": "lab", "metadata": lab_document()})
    assert response.status_code == 201, response.text
    return await _seed(api)


async def test_app_record_endpoints_survive_schemathesis(
        api: httpx.AsyncClient, seeded: dict[str, list[int]]) -> None:
    response = await api.get("/api/apps/lab/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    assert f"{LAB}/sample" in document["paths"]
    # late: a contract's change replaces its rows (deleting the seeded line the line's own
    # operations need; on PostgreSQL refused inserts use up ids, so none comes back as 1 or
    # 2), then what destroys records
    report = await _attack(api, document, known=seeded, budget=Budget(valid=25, invalid=15),
                           last=(f"PATCH {LAB}/contract/{{record_id}}",
                                 *(f"DELETE {LAB}/{name}/{{record_id}}" for name in ENTITIES)))
    _assert_clean(report, succeeding=[
        f"{method} {LAB}/{name}{suffix}" for name in ENTITIES
        for method, suffix in (("GET", ""), ("POST", ""), ("GET", "/{record_id}"),
                               ("PATCH", "/{record_id}"))])


async def test_platform_api_survives_schemathesis(
        api: httpx.AsyncClient, seeded: dict[str, list[int]], services: Services) -> None:
    # a worker is alive (its heartbeat): readiness answers 200, as on a running server
    await heartbeat.beat(services.database, "worker-host:1", services.clock.now(),
                         started_at=services.clock.now())
    response = await api.get("/openapi.json")
    assert response.status_code == 200, response.text
    known = {"app": ["lab"], "entity": ["sample", "customer"], **seeded, "version": [1]}
    report = await _attack(api, response.json(), known=known,
                           budget=Budget(valid=25, invalid=15),
                           last=CALLER_LAST)
    _assert_clean(report, succeeding=[
        "GET /api/apps", "GET /api/apps/{app}",
        "PUT /api/apps/{app}/metadata/draft", "GET /api/apps/{app}/records/{entity}",
        "GET /api/apps/{app}/records/{entity}/{record_id}",
        "POST /api/apps/{app}/metadata/import", "DELETE /api/apps/{app}"])
