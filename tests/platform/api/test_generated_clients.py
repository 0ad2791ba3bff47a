"""Clients generated from a running server's OpenAPI documents — the platform's and the CRM
app's — work the way an integrator uses them: every operation and model is generated, and
the typed Python client creates, reads, changes (If-Match), lists with a filter and a
cursor, creates in bulk, and gets a refusal back as a typed problem."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_generators import PythonClients, typescript_of

from loom.platform.api.app import create_app
from loom.platform.services import Services

OPERATIONS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def python_clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PythonClients]:
    clients = PythonClients(tmp_path_factory.mktemp("clients"))
    yield clients
    clients.close()


@pytest.fixture
async def crm(api: httpx.AsyncClient) -> httpx.AsyncClient:
    response = await api.post("/api/apps", json={"slug": "crm", "label": "CRM",
                                                 "template": "crm"})
    assert response.status_code == 201, response.text
    return api


async def documents(api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    found = {}
    for name, path in (("platform", "/openapi.json"), ("crm", "/api/apps/crm/openapi.json")):
        response = await api.get(path)
        assert response.status_code == 200, response.text
        found[name] = response.json()
    return found


@pytest.fixture
async def transport(services: Services) -> AsyncIterator[httpx.ASGITransport]:
    yield httpx.ASGITransport(app=create_app(services=services))


def connect(package: Any, api: httpx.AsyncClient, transport: httpx.ASGITransport) -> Any:
    token = api.headers["Authorization"].removeprefix("Bearer ")
    return package.AuthenticatedClient(base_url=str(api.base_url), token=token,
                                       raise_on_unexpected_status=True,
                                       httpx_args={"transport": transport})


def operation_ids(document: dict[str, Any]) -> list[str]:
    return [operation["operationId"] for item in document["paths"].values()
            for method, operation in item.items() if method in OPERATIONS]


async def test_every_operation_has_its_own_name(api: httpx.AsyncClient) -> None:
    """Client functions are named after operation ids: the platform's are its routes'
    names, each once."""
    document = (await api.get("/openapi.json")).json()
    ids = operation_ids(document)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert {"create_record", "read_record", "change_record", "export_metadata",
            "import_archive", "save_view"} <= set(ids)


async def test_the_crm_client_does_an_integrators_work(
        crm: httpx.AsyncClient, transport: httpx.ASGITransport,
        python_clients: PythonClients) -> None:
    found = await documents(crm)
    package = python_clients.client_of(found["crm"], "crm_client")
    for operation in operation_ids(found["crm"]):  # none skipped: a function each
        entity = operation.split("_")[0]
        assert _function(package, found["crm"], operation), (entity, operation)
    models = package.models
    api = package.api
    async with connect(package, crm, transport) as client:
        customer = (await api.customer.customer_create.asyncio_detailed(
            client=client, body=models.CustomerCreate(
                name="华为", region=models.CustomerRegionOption.EAST_CHINA)))
        assert customer.status_code == 201
        customer = customer.parsed
        assert isinstance(customer, models.Customer) and customer.name == "华为"
        assert customer.region is models.CustomerRegionOption.EAST_CHINA

        # read, then change with the version read (If-Match); a stale one is refused, typed
        read = await api.customer.customer_read.asyncio(customer.id, client=client)
        assert isinstance(read, models.Customer) and read.version == customer.version
        changed = await api.customer.customer_update.asyncio(
            customer.id, client=client, body=models.CustomerUpdate(phone="0755-1234"),
            if_match=f'"{read.version}"')
        assert isinstance(changed, models.Customer)
        assert (changed.phone, changed.version) == ("0755-1234", read.version + 1)
        stale = await api.customer.customer_update.asyncio_detailed(
            customer.id, client=client, body=models.CustomerUpdate(phone="x"),
            if_match=f'"{read.version}"')
        assert stale.status_code == 409 and isinstance(stale.parsed, models.Problem)

        # many at once, then listed by a filter, a page at a time
        bulk = await api.customer.customer_create_many.asyncio(client=client, body=[
            models.CustomerCreate(name=f"客户{n}", region=models.CustomerRegionOption.SOUTH_CHINA)
            for n in range(3)])
        assert isinstance(bulk, models.CustomerBulkResult) and len(bulk.items) == 3
        south = json.dumps({"==": [{"var": "region"}, "south_china"]})
        first = await api.customer.customer_list.asyncio(client=client, filter_=south,
                                                         limit=2, sort="name")
        assert isinstance(first, models.CustomerPage) and first.next_cursor
        rest = await api.customer.customer_list.asyncio(client=client, filter_=south,
                                                        limit=2, sort="name",
                                                        cursor=first.next_cursor)
        assert [c.name for c in first.items + rest.items] == ["客户0", "客户1", "客户2"]
        assert rest.next_cursor is None

        # a contact needs its customer: the refusal's problem details come back typed
        refused = await api.contact.contact_create.asyncio_detailed(
            client=client, body=models.ContactCreate(name="李雷", customer=None))
        assert refused.status_code == 422
        problem = refused.parsed
        assert isinstance(problem, models.Problem) and problem.status == 422
        assert isinstance(problem.errors[0], models.FieldProblem)
        assert "customer" in [error.field for error in problem.errors]
        contact = await api.contact.contact_create.asyncio(
            client=client, body=models.ContactCreate(name="李雷", customer=customer.id))
        assert isinstance(contact, models.Contact) and contact.customer == customer.id


async def test_the_platform_client_carries_an_app_over(
        crm: httpx.AsyncClient, transport: httpx.ASGITransport,
        python_clients: PythonClients) -> None:
    """The platform's client: the app's metadata exported as a zip and imported as a new
    app (the bytes each way), and the apps listed."""
    found = await documents(crm)
    package = python_clients.client_of(found["platform"], "loom_client")
    for operation in operation_ids(found["platform"]):
        assert _function(package, found["platform"], operation), operation
    metadata = package.api.metadata
    async with connect(package, crm, transport) as client:
        exported = await metadata.export_metadata.asyncio_detailed("crm", client=client)
        assert exported.status_code == 200 and exported.content[:2] == b"PK"
        imported = await metadata.import_archive.asyncio_detailed(
            "crm_copy", client=client, create=True,
            # bytes: an async client cannot send from a file object
            body=package.types.File(payload=exported.content))
        assert imported.status_code == 201, imported.content
        problem = await package.api.apps.get_app.asyncio_detailed("nope", client=client)
        assert problem.status_code == 404
        assert isinstance(problem.parsed, package.models.Problem)
    listed = (await crm.get("/api/apps")).json()["items"]
    assert {"crm", "crm_copy"} <= {app["slug"] for app in listed}


@pytest.fixture(scope="module")
def typescript_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("typescript")


async def test_typescript_types_cover_every_operation(
        crm: httpx.AsyncClient, typescript_folder: Path) -> None:
    for name, document in (await documents(crm)).items():
        types = typescript_of(document, typescript_folder)
        for path, item in document["paths"].items():
            assert f'"{path}": {{' in types, (name, path)
            for method in set(item) & set(OPERATIONS):
                # an operation openapi-typescript could not read would be `never`
                assert re.search(rf'{method}: operations\["{item[method]["operationId"]}"\]',
                                 types), (name, path, method)
        for model in document["components"]["schemas"]:
            assert re.search(rf'\n        {re.escape(model)}: ', types), (name, model)


def _function(package: Any, document: dict[str, Any], operation: str) -> bool:
    """Whether the generated client has a module for ``operation`` under its tag."""
    for item in document["paths"].values():
        for method, found in item.items():
            if method in OPERATIONS and found["operationId"] == operation:
                tag = re.sub(r"\W+", "_", found["tags"][0]).lower()
                try:
                    importlib.import_module(f"{package.__name__}.api.{tag}.{operation}")
                except ModuleNotFoundError:
                    return False
                return True
    return False
