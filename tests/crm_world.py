"""The CRM template's world for the acceptance stories: an app cloned from the stock
template, the people of a small Chinese company, and shortcuts to act as each of them —
all through the public HTTP API. Time moves the way an operator moves it: the clock is set
and the worker runs once as of that moment (``loom worker --once --as-of …``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fixture_kit import ADMIN_EMAIL, START, copy_database, release_database
from sqlalchemy import select

from loom.platform.api.app import create_app
from loom.platform.clock import FixedClock
from loom.platform.security.tokens import issue_token
from loom.platform.services import Services, build_services
from loom.platform.settings import Settings
from loom.platform.storage.database import Database, create_engine
from loom.platform.storage.system_tables import users
from loom.platform.worker import Worker, WorkReport

APP = "crm"
RECORDS = f"/api/apps/{APP}/records"
PASSWORD = "demo-password-2026"

# (key, name, department, manager key, roles, team code the person belongs to)
PEOPLE: list[tuple[str, str, str, str | None, list[str], str | None]] = [
    ("director", "刘洋", "销售部", None, ["sales_director"], None),
    ("east_manager", "王芳", "华东销售部", "director", ["sales_manager"], None),
    ("zhang", "张伟", "华东销售部", "east_manager", ["sales_rep"], "east_china_team"),
    ("li", "李娜", "华东销售部", "east_manager", ["sales_rep"], "east_china_team"),
    ("north_manager", "赵强", "华北销售部", "director", ["sales_manager"], None),
    ("sun", "孙丽", "华北销售部", "north_manager", ["sales_rep"], "north_china_team"),
    ("legal_chen", "陈静", "法务部", None, ["legal"], None),
    ("legal_zhou", "周杰", "法务部", None, ["legal"], None),
    ("finance", "杨军", "财务部", None, ["finance"], None),
    ("service_lead", "黄敏", "客户服务部", None, ["service_lead"], None),
    ("engineer_wu", "吴刚", "客户服务部", "service_lead", ["service_engineer"], None),
    ("engineer_zheng", "郑爽", "客户服务部", "service_lead", ["service_engineer"], None),
]
TEAM_MANAGERS = {"east_china_team": "east_manager", "north_china_team": "north_manager"}


def sop_ready(contact: int) -> dict[str, Any]:
    """What the CRM's sales SOP asks of an opportunity before it may be at the quote stage
    (or any open stage before it): the contact and source, budget, decision chain and
    pain points, the demo's date and attendees."""
    return {"contact": contact, "source": "website", "budget": 100000,
            "decision_chain": "IT 经理评估，总经理拍板", "pain_points": "报表靠手工汇总",
            "demo_date": "2026-11-02", "demo_attendees": "总经理、IT 经理"}


def email_of(key: str) -> str:
    return f"{key}@yunqi.example"


@dataclass
class World:
    """The CRM app, its people, and the moment it is."""

    admin: httpx.AsyncClient
    services: Services
    clock: FixedClock
    users: dict[str, int] = field(default_factory=dict)
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)

    # --- people ---------------------------------------------------------------------------

    def as_(self, key: str) -> httpx.AsyncClient:
        return self.admin if key == "admin" else self.clients[key]

    def id(self, key: str) -> int:
        return self.users[key]

    # --- time -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    async def advance(self, delta: timedelta) -> WorkReport:
        """Let ``delta`` pass, then run the worker once as of the new moment."""
        return await self.at(self.now() + delta)

    async def at(self, moment: datetime) -> WorkReport:
        self.clock.set(moment.astimezone(UTC))
        return await Worker(self.services).run_once(self.clock.now())

    # --- records --------------------------------------------------------------------------

    async def create(self, entity: str, values: dict[str, Any], *, by: str = "admin",
                     ) -> dict[str, Any]:
        response = await self.as_(by).post(f"{RECORDS}/{entity}", json=values)
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, entity: str, record_id: int, *, by: str = "admin") -> dict[str, Any]:
        response = await self.as_(by).get(f"{RECORDS}/{entity}/{record_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def change(self, entity: str, record_id: int, values: dict[str, Any], *,
                     by: str = "admin") -> dict[str, Any]:
        current = await self.get(entity, record_id, by=by)
        response = await self.as_(by).patch(f"{RECORDS}/{entity}/{record_id}", json=values,
                                            headers={"If-Match": str(current["version"])})
        assert response.status_code == 200, response.text
        return response.json()

    async def find(self, entity: str, condition: dict[str, Any] | None = None, *,
                   by: str = "admin", sort: str = "id") -> list[dict[str, Any]]:
        params: dict[str, Any] = {"sort": sort, "limit": 200}
        if condition is not None:
            params["filter"] = json.dumps(condition)
        response = await self.as_(by).get(f"{RECORDS}/{entity}", params=params)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def action(self, entity: str, record_id: int, name: str, *, by: str = "admin",
                     body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.as_(by).post(
            f"{RECORDS}/{entity}/{record_id}/actions/{name}", json=body or {})

    # --- what people see ------------------------------------------------------------------

    async def tasks(self, key: str, status: str = "open") -> list[dict[str, Any]]:
        response = await self.as_(key).get(f"/api/apps/{APP}/tasks",
                                           params={"assignee": "me", "status": status})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def task_act(self, key: str, task_id: int, action: str, **body: Any,
                       ) -> httpx.Response:
        return await self.as_(key).post(f"/api/apps/{APP}/tasks/{task_id}/actions",
                                        json={"action": action, **body})

    async def notifications(self, key: str) -> list[dict[str, Any]]:
        response = await self.as_(key).get("/api/notifications")
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def titles(self, key: str) -> list[str]:
        return [n["title"] for n in await self.notifications(key)]

    async def outbox(self) -> list[dict[str, Any]]:
        response = await self.admin.get("/api/outbox")
        assert response.status_code == 200, response.text
        return response.json()["items"]


@dataclass(frozen=True)
class Cast:
    """Who is who in a built world: user ids, their API tokens and the teams' ids."""

    users: dict[str, int]
    tokens: dict[str, str]
    teams: dict[str, int]


async def build_cast(api: httpx.AsyncClient) -> Cast:
    """Clone the template, add the people (they sign in with their passwords), put them
    in roles and teams — all over HTTP, as an administrator would."""
    created = await api.post("/api/apps", json={"slug": APP, "template": "crm"})
    assert created.status_code == 201, created.text
    user_ids, tokens = {}, {}
    for key, name, department, manager, _roles, _team in PEOPLE:
        response = await api.post("/api/users", json={
            "email": email_of(key), "name": name, "password": PASSWORD,
            "department": department, "manager": email_of(manager) if manager else None})
        assert response.status_code == 201, response.text
        user_ids[key] = response.json()["id"]
        login = await api.post("/api/auth/token", json={"email": email_of(key),
                                                        "password": PASSWORD},
                               headers={"Authorization": ""})
        assert login.status_code == 200, login.text
        tokens[key] = await _lasting_token(api, login.json()["access_token"], ["read", "write"])
    tokens["admin"] = await _lasting_token(api, None, ["read", "write", "admin"])
    await _assign_roles(api)
    teams = await _staff_teams(api, user_ids)
    return Cast(user_ids, tokens, teams)


async def _lasting_token(api: httpx.AsyncClient, login: str | None, scopes: list[str]) -> str:
    """A personal API token: a sign-in lasts 30 days, the stories run for months."""
    headers = {"Authorization": f"Bearer {login}"} if login else {}
    response = await api.post("/api/auth/tokens", json={
        "name": "acceptance stories", "scopes": scopes}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


_worlds: dict[str, tuple[str, Cast]] = {}


async def world_database(kind: str, migrated: str, directory: object) -> tuple[str, Cast]:
    """A database holding the built world, made once per database kind (cloning the
    template and signing in a dozen people takes seconds): copy it for each test."""
    if kind not in _worlds:
        url = await copy_database(migrated, directory)
        services = build_services(Settings(database_url=url), FixedClock(START),
                                  Database(create_engine(url, pool_size=2)))
        try:
            async with services.database.write() as conn:
                admin_id = await conn.scalar(select(users.c.id).where(
                    users.c.email == ADMIN_EMAIL))
                token = await issue_token(conn, admin_id, services.clock)
            transport = httpx.ASGITransport(app=create_app(services=services))
            async with httpx.AsyncClient(transport=transport, base_url="http://loom.test",
                                         headers={"Authorization": f"Bearer {token}"}) as api:
                cast = await build_cast(api)
        finally:
            await services.database.dispose()
        _worlds[kind] = (url, cast)
    return _worlds[kind]


def cast_of(kind: str) -> Cast:
    """The people of the world built on ``kind`` (by ``world_database``)."""
    return _worlds[kind][1]


@asynccontextmanager
async def world_from(cast: Cast, api: httpx.AsyncClient, services: Services,
                     clock: FixedClock, language: str = "zh-CN") -> AsyncIterator[World]:
    """The world of ``cast`` on this test's copy of its database, everyone reading
    ``language``."""
    transport = httpx.ASGITransport(app=create_app(services=services))
    world = World(api, services, clock, dict(cast.users), {}, dict(cast.teams))
    api.headers["Accept-Language"] = language
    api.headers["Authorization"] = f"Bearer {cast.tokens['admin']}"
    for key, token in cast.tokens.items():
        if key == "admin":
            continue
        world.clients[key] = httpx.AsyncClient(
            transport=transport, base_url="http://loom.test",
            headers={"Authorization": f"Bearer {token}", "Accept-Language": language})
    try:
        yield world
    finally:
        for client in world.clients.values():
            await client.aclose()


async def _assign_roles(api: httpx.AsyncClient) -> None:
    members: dict[str, list[str]] = {}
    for key, _name, _department, _manager, roles, _team in PEOPLE:
        for role in roles:
            members.setdefault(role, []).append(email_of(key))
    for role, emails in members.items():
        response = await api.put(f"/api/apps/{APP}/roles/{role}", json={"members": emails})
        assert response.status_code == 200, response.text


async def _staff_teams(api: httpx.AsyncClient, user_ids: dict[str, int]) -> dict[str, int]:
    listed = await api.get(f"{RECORDS}/team", params={"sort": "code"})
    assert listed.status_code == 200, listed.text
    teams = {team["code"]: team for team in listed.json()["items"]}
    for code, manager in TEAM_MANAGERS.items():
        members = [user_ids[key] for key, *_rest, team in PEOPLE if team == code]
        response = await api.patch(f"{RECORDS}/team/{teams[code]['id']}", json={
            "manager": user_ids[manager], "members": members},
            headers={"If-Match": str(teams[code]["version"])})
        assert response.status_code == 200, response.text
    return {code: team["id"] for code, team in teams.items()}


def world_fixtures(language: str) -> tuple[Any, Any]:
    """The ``database_url`` and ``world`` fixtures of a folder of tests in the CRM world:
    the world built once per database kind, a copy of its database per test, everyone
    reading ``language``. A conftest says ``database_url, world = world_fixtures(…)``."""

    @pytest.fixture
    async def database_url(database_kind: str, migrated_database: str,
                           tmp_path_factory: pytest.TempPathFactory,
                           tmp_path: object) -> AsyncIterator[str]:
        template, _cast = await world_database(database_kind, migrated_database,
                                               tmp_path_factory.mktemp("crm_world"))
        url = await copy_database(template, tmp_path)
        yield url
        release_database(url)

    @pytest.fixture
    async def world(database_kind: str, api: httpx.AsyncClient, services: Services,
                    clock: FixedClock) -> AsyncIterator[World]:
        async with world_from(cast_of(database_kind), api, services, clock,
                              language) as built:
            yield built

    return database_url, world
