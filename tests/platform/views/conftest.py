"""Fixtures of the views and forms tests: the CRM world (``crm_world``)
on each database under test, built once per database kind through the HTTP API like
everything else; each test gets a copy of that database and new clients holding the
people's tokens, who read English here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from crm_world import World, cast_of, world_database, world_from
from fixture_kit import copy_database

from loom.platform.clock import FixedClock
from loom.platform.services import Services


@pytest.fixture
async def database_url(database_kind: str, migrated_database: str,
                       tmp_path_factory: pytest.TempPathFactory, tmp_path: object) -> str:
    template, _cast = await world_database(database_kind, migrated_database,
                                           tmp_path_factory.mktemp("crm_world"))
    return await copy_database(template, tmp_path)


@pytest.fixture
async def world(database_kind: str, api: httpx.AsyncClient, services: Services,
                clock: FixedClock) -> AsyncIterator[World]:
    async with world_from(cast_of(database_kind), api, services, clock) as built:
        for client in [api, *built.clients.values()]:
            client.headers["Accept-Language"] = "en"
        yield built
