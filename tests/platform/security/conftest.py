"""Fixtures of the permission tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from company import Company

from loom.platform.services import Services


@pytest.fixture
async def company(api: httpx.AsyncClient, services: Services) -> AsyncIterator[Company]:
    api.headers["Accept-Language"] = "en"
    built = Company(services, api)
    await built.setup()
    yield built
    await built.close()
