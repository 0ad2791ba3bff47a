"""Proof by attack: Schemathesis against the live OpenAPI documents — the platform's
(``/openapi.json``), a small lab app's record endpoints and the CRM template's, cloned with
its demo data so rules and flows fire (``/api/apps/{app}/openapi.json``) — authenticated
as the administrator, on every database under test. Valid and deliberately invalid
requests alike must never get a 5xx, and every answer must be one the document declares:
its status code, its content type, its headers and its body's schema.

Each run takes a new seed, printed with the report (``LOOM_ATTACK_SEED=<seed>`` replays
it); the budget is a bounded number of cases per operation, so the attacks take a minute
or two per database. The core operations must succeed: each runs, before its generated
cases, a request that must work against what exists at that moment (a record read just
before), so an endpoint that always fails is caught and an unlucky draw is not."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import schemathesis
from fixture_kit import finished
from hypothesis import strategies as st
from lab_app import LAB, create, lab_document
from openapi_attack import AttackReport, Budget, Prepare, Ready, attack, load_schema

from loom.platform import worker_heartbeat as heartbeat
from loom.platform.apps.folder import write_zip
from loom.platform.services import Services

ADMIN_EMAIL = "admin@example.com"  # the first administrator of tests/conftest.py
ENTITIES = sorted(lab_document()["entities"])
# line items: created inline through their parent's subtable field
LINE_ITEMS = {"contract_line"}
# a record each lab entity can always be created with (the explicit case of its POST)
LAB_RECORDS = {"customer": {"name": "探针客户"}, "contact": {"name": "Probe"},
               "note": {"text": "probe"}, "visit": {"topic": "probe"},
               "visit_report": {"summary": "probe"}, "contract": {"title": "Probe"},
               "sample": {"title": "Probe"}}
RECORD_PATH = re.compile(r"^/api/apps/(?P<app>[^/{}]+)/records/(?P<entity>[^/{}]+)"
                         r"(?P<one>/\{record_id\})?$")
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
    await create(api, "contract", {"title": "Framework", "lines": [{"amount": "100.50"}]})
    await create(api, "contact", {"name": "Li", "customer": customer["id"]})
    await create(api, "note", {"text": "hello", "customer": customer["id"]})
    visit = await create(api, "visit", {"topic": "demo", "customer": customer["id"]})
    await create(api, "visit_report", {"summary": "ok", "visit": visit["id"]})
    await create(api, "sample", {"title": "S1", "code": "S-1", "quantity": 3,
                                 "price": "9.99", "customer": customer["id"]})
    await create(api, "sample", {"title": "S2", "code": "S-2"})
    # the first of each kind, a sample, none; changed as read (their first version)
    return {"record_id": [1, 2, 999_999], "If-Match": ['"1"']}


def _on_loop(loop: asyncio.AbstractEventLoop,
             work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` on the test's loop from the attack's worker thread."""
    return asyncio.run_coroutine_threadsafe(work(), loop).result(120)


async def _newest(api: httpx.AsyncClient, app: str, entity: str) -> dict[str, Any] | None:
    page = await api.get(f"/api/apps/{app}/records/{entity}",
                         params={"sort": "-id", "limit": "1"})
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    return items[0] if items else None


def record_prepare(api: httpx.AsyncClient, loop: asyncio.AbstractEventLoop,
                   known: dict[str, list[Any]], *,
                   records: dict[str, dict[str, Any]] | None = None,
                   fresh: Callable[[str], Awaitable[Any]] | None = None) -> Prepare:
    """For an app's record operations: the newest record of the entity as it is just
    before the operation runs (earlier operations change and remove records), with its
    version, and the requests that must work — reading it, changing nothing of it
    (``{}``), creating one of ``records``. ``fresh(entity)`` makes a record when none is
    left."""
    def prepare(operation: Any) -> Ready:
        match = RECORD_PATH.match(operation.path)
        if match is None:
            return Ready(known)
        app, entity = match["app"], match["entity"]
        if match["one"] is None:
            body = (records or {}).get(entity)
            sure = [{}] if operation.method.upper() == "GET" else \
                [{"body": body}] if operation.method.upper() == "POST" and body else []
            return Ready(known, sure)
        record = _on_loop(loop, lambda: _newest(api, app, entity))
        if record is None and fresh is not None:
            _on_loop(loop, lambda: fresh(entity))
            record = _on_loop(loop, lambda: _newest(api, app, entity))
        if record is None:
            return Ready(known)
        here = {"record_id": [record["id"], 999_999],
                "If-Match": [f'"{record["version"]}"']}
        address = {"path_parameters": {"record_id": record["id"]}}
        method = operation.method.upper()
        sure = [address] if method == "GET" else [
            {**address, "headers": {"If-Match": here["If-Match"][0]}, "body": {}}
        ] if method == "PATCH" else []
        return Ready({**known, **here}, sure)

    return prepare


async def _attack(api: httpx.AsyncClient, document: dict[str, Any], *,
                  known: dict[str, list[Any]], budget: Budget,
                  last: tuple[str, ...] = (), prepare: Prepare | None = None) -> AttackReport:
    spare = await _the_callers_own(api)
    schema = load_schema(document)
    loop = asyncio.get_running_loop()
    print(f"attack seed {budget.seed}")  # shown with a failure: LOOM_ATTACK_SEED replays it
    return await asyncio.to_thread(attack, api, loop, schema, known=known, budget=budget,
                                   last=last, spare=spare, prepare=prepare)


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
    assert not report.failures, "\n\n".join([*report.failures, report.replay])
    shut_out = [label for label, codes in report.statuses.items() if codes <= {401, 403}]
    assert not shut_out, f"only ever refused: {shut_out} ({report.replay})"
    never = [label for label in succeeding
             if not any(code < 300 for code in report.statuses.get(label, ()))]
    assert not never, f"never succeeded: {never} ({report.replay})"


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

    async def fresh(entity: str) -> None:
        if entity in LINE_ITEMS:
            await create(api, "contract", {"title": "Lines", "lines": [{"amount": "1"}]})
        else:
            await create(api, entity, {**LAB_RECORDS[entity]})

    prepare = record_prepare(api, asyncio.get_running_loop(), seeded,
                             records=LAB_RECORDS, fresh=fresh)
    report = await _attack(api, document, known=seeded, budget=Budget(valid=25, invalid=15),
                           # late: a contract's change replaces its rows; then what
                           # destroys records
                           last=(f"PATCH {LAB}/contract/{{record_id}}",
                                 *(f"DELETE {LAB}/{name}/{{record_id}}" for name in ENTITIES)),
                           prepare=prepare)
    _assert_clean(report, succeeding=[
        f"{method} {LAB}/{name}{suffix}" for name in ENTITIES
        for method, suffix in (("GET", ""), ("POST", ""), ("GET", "/{record_id}"),
                               ("PATCH", "/{record_id}"))
        if not (method == "POST" and name in LINE_ITEMS)])


@pytest.fixture
async def crm(api: httpx.AsyncClient) -> Budget:
    """The CRM template cloned with its demo data (its seed follows the attack's), and the
    attack's budget: a few cases per operation, as the CRM has a hundred of them."""
    budget = Budget(valid=5, invalid=3)
    created = await api.post("/api/apps", json={
        "slug": "crm", "template": "crm", "demo_data": True,
        "demo_seed": budget.seed % 1000})
    assert created.status_code == 201, created.text
    done = await finished(api, created.json()["demo"]["operation"])
    assert done["status"] == "succeeded", done
    return budget


async def test_the_crm_with_its_demo_data_survives_schemathesis(
        api: httpx.AsyncClient, crm: Budget) -> None:
    response = await api.get("/api/apps/crm/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    records = "/api/apps/crm/records"
    entities = sorted({path.split("/")[5] for path in document["paths"]
                       if path.startswith(records + "/")})
    assert {"lead", "opportunity", "quote", "contract", "payment"} <= set(entities)
    # one record is read and changed through each entity that has some (the demo data
    # leaves a few empty), and every list is read
    filled = [name for name in entities if await _newest(api, "crm", name) is not None]
    assert len(filled) >= 10, filled
    known = {"record_id": [1, 999_999], "If-Match": ['"1"']}
    prepare = record_prepare(api, asyncio.get_running_loop(), known)
    report = await _attack(api, document, known=known, budget=crm,
                           last=tuple(f"DELETE {records}/{name}/{{record_id}}"
                                      for name in entities), prepare=prepare)
    _assert_clean(report, succeeding=[
        *(f"GET {records}/{name}" for name in entities),
        *(f"{method} {records}/{name}/{{record_id}}" for name in filled
          for method in ("GET", "PATCH"))])


async def test_platform_api_survives_schemathesis(
        api: httpx.AsyncClient, seeded: dict[str, list[int]], services: Services) -> None:
    # a worker is alive (its heartbeat): readiness answers 200, as on a running server
    await heartbeat.beat(services.database, "worker-host:1", services.clock.now(),
                         started_at=services.clock.now())
    response = await api.get("/openapi.json")
    assert response.status_code == 200, response.text
    known = {"app": ["lab"], "entity": ["sample", "customer"], **seeded, "version": [1]}
    lab = {"app": "lab"}
    loop = asyncio.get_running_loop()
    sure: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "GET /api/apps": lambda: [{}],
        "GET /api/apps/{app}": lambda: [{"path_parameters": lab}],
        "PUT /api/apps/{app}/metadata/draft": lambda: [
            {"path_parameters": lab, "body": lab_document()}],
        "GET /api/apps/{app}/records/{entity}": lambda: [
            {"path_parameters": {**lab, "entity": "sample"}}],
        "GET /api/apps/{app}/records/{entity}/{record_id}": lambda: [
            {"path_parameters": {**lab, "entity": "sample", "record_id": record["id"]}}
            for record in [_on_loop(loop, lambda: _newest(api, "lab", "sample"))] if record],
        "POST /api/apps/{app}/metadata/import": lambda: [
            {"path_parameters": lab, "body": write_zip(lab_document()),
             "media_type": "application/octet-stream"}],
        "DELETE /api/apps/{app}": lambda: [{"path_parameters": lab}],
    }

    def prepare(operation: Any) -> Ready:
        found = sure.get(operation.label)
        return Ready(known, found() if found else [])

    report = await _attack(api, response.json(), known=known,
                           budget=Budget(valid=25, invalid=15),
                           last=CALLER_LAST, prepare=prepare)
    _assert_clean(report, succeeding=list(sure))
