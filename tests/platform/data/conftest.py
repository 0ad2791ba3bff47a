"""Fixtures of the import and export tests: the app ``sales`` and its people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sales_data import DOC, People

from loom.platform.services import Services


@pytest.fixture
async def sales(api: httpx.AsyncClient) -> httpx.AsyncClient:
    """The administrator's client, with the app ``sales`` created."""
    api.headers["Accept-Language"] = "en"
    created = await api.post("/api/apps", json={"slug": "sales", "metadata": DOC})
    assert created.status_code == 201, created.text
    return api


@pytest.fixture
async def people(sales: httpx.AsyncClient, services: Services) -> AsyncIterator[People]:
    found = People(services, sales)
    yield found
    await found.close()
