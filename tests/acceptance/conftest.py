"""Fixtures of the acceptance stories: the CRM world on each database under test.

Cloning the template and signing in a dozen people takes seconds, so the world is built
once per database kind, through the HTTP API like everything else, and each story gets a
copy of that database (and new clients holding the people's tokens)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from crm_world import Cast, World, build_cast, world_from
from fixture_kit import ADMIN_EMAIL, START, copy_database
from sqlalchemy import select

from loom.platform.api.app import create_app
from loom.platform.clock import FixedClock
from loom.platform.security.tokens import issue_token
from loom.platform.services import Services, build_services
from loom.platform.settings import Settings
from loom.platform.storage.database import Database, create_engine
from loom.platform.storage.system_tables import users

_worlds: dict[str, tuple[str, Cast]] = {}


async def _world_template(kind: str, migrated: str, directory: object) -> tuple[str, Cast]:
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


@pytest.fixture
async def database_url(database_kind: str, migrated_database: str,
                       tmp_path_factory: pytest.TempPathFactory, tmp_path: object) -> str:
    template, _cast = await _world_template(database_kind, migrated_database,
                                            tmp_path_factory.mktemp("crm_world"))
    return await copy_database(template, tmp_path)


@pytest.fixture
async def world(database_kind: str, api: httpx.AsyncClient, services: Services,
                clock: FixedClock) -> AsyncIterator[World]:
    _url, cast = _worlds[database_kind]
    async with world_from(cast, api, services, clock) as built:
        yield built
