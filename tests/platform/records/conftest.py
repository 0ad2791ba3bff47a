"""Fixtures of the write pipeline and record reads tests."""

from __future__ import annotations

import pytest
from ledger_app import LEDGER, Ledger
from sqlalchemy import select

from loom.platform.security.users import actor_from_row
from loom.platform.services import Services
from loom.platform.storage.system_tables import users

ADMIN_EMAIL = "admin@example.com"  # the first administrator of tests/conftest.py


@pytest.fixture
async def ledger(services: Services) -> Ledger:
    async with services.database.write() as conn:
        row = (await conn.execute(select(users).where(users.c.email == ADMIN_EMAIL))
               ).mappings().one()
        actor = actor_from_row(row)
        await services.apps.create(conn, actor, Ledger.slug, LEDGER)
    return Ledger(services, actor)
