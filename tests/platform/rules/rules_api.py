"""Helpers of the rule API tests: publishing the ``sales`` app, records, and people with
their own tokens."""

from __future__ import annotations

from typing import Any

import httpx
from fixture_kit import (
    patch_read,
    person,  # noqa: F401  (the rule tests' people)
)
from rules_app import sales_app
from sqlalchemy import func, select

from loom.platform.services import Services
from loom.platform.storage.system_tables import (
    notifications,
    outbox,
    rule_runs,
    tasks,
    timers,
)

APP = "/api/apps/sales"
RECORDS = f"{APP}/records"


async def publish(api: httpx.AsyncClient, rules: dict[str, Any],
                  flows: dict[str, Any] | None = None) -> None:
    document = sales_app(rules)
    if flows:
        document["flows"] = flows
    response = await api.post("/api/apps", json={"slug": "sales", "metadata": document})
    assert response.status_code == 201, response.text


async def flow_on_a_lead(api: httpx.AsyncClient, flow: dict[str, Any],
                         name: str) -> dict[str, Any]:
    """The sales app with one flow (``main``), started by hand on a new lead: the
    instance."""
    await publish(api, {}, {"main": flow})
    lead = await post(api, "lead", {"name": name})
    started = await api.post(f"{APP}/flow-instances", json={"flow": "main",
                                                            "record_id": lead["id"]})
    assert started.status_code == 201, started.text
    return started.json()


async def post(api: httpx.AsyncClient, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"{RECORDS}/{entity}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def patch(api: httpx.AsyncClient, entity: str, record_id: int,
                body: dict[str, Any]) -> dict[str, Any]:
    """Change a record as read now (rules may have moved it on since it was created)."""
    response = await patch_read(api, f"{RECORDS}/{entity}/{record_id}", body)
    assert response.status_code == 200, response.text
    return response.json()


async def user(api: httpx.AsyncClient, email: str, *, manager: str | None = None,
               locale: str | None = None) -> int:
    """A new user of the workspace (with a password, a manager, a language)."""
    body = {"email": email, "name": email.split("@")[0], "password": "long-password-1",
            "manager": manager, "locale": locale}
    response = await api.post("/api/users", json={k: v for k, v in body.items() if v})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def get(api: httpx.AsyncClient, entity: str, record_id: int) -> dict[str, Any]:
    response = await api.get(f"{RECORDS}/{entity}/{record_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def counts(services: Services) -> dict[str, int]:
    """How many rows the side effects of rules have left, table by table."""
    found = {}
    async with services.database.read() as conn:
        for table in (rule_runs, notifications, outbox, tasks, timers):
            found[table.name] = await conn.scalar(select(func.count()).select_from(table))
    return found


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of a refused request, checked to have its parts."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and isinstance(body["errors"], list)
    return body
