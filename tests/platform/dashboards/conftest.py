"""Fixtures of the dashboard tests: the app ``shop`` with its people and records."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from shop_board import Shop

from loom.platform.services import Services


@pytest.fixture
async def shop(api: httpx.AsyncClient, services: Services) -> AsyncIterator[Shop]:
    api.headers["Accept-Language"] = "en"
    built = Shop(services, api)
    await built.setup()
    yield built
    await built.close()
