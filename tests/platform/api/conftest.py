"""Fixtures of the records API tests."""

from __future__ import annotations

import httpx
import pytest
from lab_app import lab_document

ADMIN_EMAIL = "admin@example.com"  # the first administrator of tests/conftest.py


@pytest.fixture
async def lab(api: httpx.AsyncClient) -> httpx.AsyncClient:
    """The admin's client, with the app ``lab`` published."""
    response = await api.post("/api/apps", json={"slug": "lab", "metadata": lab_document()})
    assert response.status_code == 201, response.text
    return api
