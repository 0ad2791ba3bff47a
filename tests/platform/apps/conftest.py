"""Fixtures of the metadata lifecycle tests."""

from __future__ import annotations

import httpx
import pytest
from sales_app import App, sales


@pytest.fixture
async def app(api: httpx.AsyncClient) -> App:
    """The published app ``sales``; messages in English."""
    api.headers["Accept-Language"] = "en"
    created = await api.post("/api/apps", json={"slug": "sales", "metadata": sales()})
    assert created.status_code == 201, created.text
    return App(api, "sales")
