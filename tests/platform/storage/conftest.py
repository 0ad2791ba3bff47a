"""Storage test helpers: a small app with two entities and a lookup, driven through the
public API, plus looks inside its tables (columns, indexes, references, where rows are stored)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, select, text

from loom.platform.api.context import Services
from loom.platform.security.actors import Actor
from loom.platform.security.users import DEFAULT_WORKSPACE, actor_from_row
from loom.platform.storage.entity_tables import Namespace
from loom.platform.storage.system_tables import users

ADMIN_EMAIL = "admin@example.com"  # the first administrator of tests/conftest.py


def shop_document() -> dict[str, Any]:
    """Customers and their orders: two entities and a lookup between them."""
    return {
        "app": {"label": {"zh-CN": "商店", "en": "Shop"}},
        "entities": {
            "customer": {
                "label": {"zh-CN": "客户", "en": "Customer"},
                "fields": {"name": {"type": "text", "label": "Name", "required": True},
                           "city": {"type": "text", "label": "City"}},
            },
            "order": {
                "label": {"zh-CN": "订单", "en": "Order"},
                "fields": {"title": {"type": "text", "label": "Title"},
                           "quantity": {"type": "integer", "label": "Quantity"},
                           "amount": {"type": "decimal", "label": "Amount"},
                           "customer": {"type": "lookup", "ref": "customer",
                                        "label": "Customer"}},
            },
        },
    }


class Shop:
    """The app ``shop`` of the default workspace, seen through the API and the database."""

    slug = "shop"

    def __init__(self, api: httpx.AsyncClient, services: Services) -> None:
        self.api = api
        self.services = services
        self.doc = shop_document()
        self.namespace = Namespace.for_app(DEFAULT_WORKSPACE, self.slug,
                                           postgres=services.database.is_postgres)

    @property
    def postgres(self) -> bool:
        return self.services.database.is_postgres

    # --- through the API ------------------------------------------------------------

    def edited(self) -> dict[str, Any]:
        """A copy of the last published document, to change and publish."""
        return copy.deepcopy(self.doc)

    async def publish(self, document: dict[str, Any], **body: Any) -> httpx.Response:
        """Save ``document`` as the draft and publish it; remembers it when published."""
        saved = await self.api.put(f"/api/apps/{self.slug}/metadata/draft", json=document)
        assert saved.status_code == 200, saved.text
        response = await self.api.post(f"/api/apps/{self.slug}/metadata/publish", json=body)
        if response.status_code == 200 and not body.get("dry_run"):
            self.doc = copy.deepcopy(document)
        return response

    async def create(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.post(f"/api/apps/{self.slug}/records/{entity}", json=data)
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, entity: str, record_id: int) -> dict[str, Any]:
        """A record as the API returns it, numbers with a fraction as exact decimals."""
        response = await self.api.get(f"/api/apps/{self.slug}/records/{entity}/{record_id}")
        assert response.status_code == 200, response.text
        return json.loads(response.text, parse_float=Decimal)

    async def version(self) -> int:
        response = await self.api.get(f"/api/apps/{self.slug}")
        assert response.status_code == 200, response.text
        return response.json()["version"]

    # --- inside the database --------------------------------------------------------

    def table(self, entity: str) -> str:
        return self.namespace.table_name(entity)

    def qualified(self, entity: str) -> str:
        table = f'"{self.table(entity)}"'
        return f'"{self.namespace.schema}".{table}' if self.namespace.schema else table

    async def tables(self) -> set[str]:
        """This app's tables that exist in the database."""
        schema = self.namespace.schema
        async with self.services.database.read() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names(schema=schema))
        return {name for name in names if self.namespace.owns(name)}

    async def columns(self, entity: str) -> dict[str, str]:
        """Column name → database type of an entity's table."""
        schema, table = self.namespace.schema, self.table(entity)
        async with self.services.database.read() as conn:
            found = await conn.run_sync(
                lambda c: inspect(c).get_columns(table, schema=schema))
        return {column["name"]: str(column["type"]) for column in found}

    async def indexes(self, entity: str) -> dict[str, bool]:
        """Index name → unique, of an entity's table."""
        schema, table = self.namespace.schema, self.table(entity)
        async with self.services.database.read() as conn:
            found = await conn.run_sync(
                lambda c: inspect(c).get_indexes(table, schema=schema))
        return {index["name"]: bool(index["unique"]) for index in found}

    async def foreign_keys(self, entity: str) -> dict[str, tuple[str | None, str]]:
        """Column → (schema, table) it references, of an entity's table."""
        schema, table = self.namespace.schema, self.table(entity)
        async with self.services.database.read() as conn:
            found = await conn.run_sync(
                lambda c: inspect(c).get_foreign_keys(table, schema=schema))
        return {key["constrained_columns"][0]: (key["referred_schema"], key["referred_table"])
                for key in found}

    async def column_values(self, entity: str, column: str) -> dict[int, Any]:
        """Record id → the raw stored value of a column, hidden fields included."""
        async with self.services.database.read() as conn:
            rows = await conn.execute(text(
                f'SELECT id, "{column}" FROM {self.qualified(entity)} ORDER BY id'))
            return {row[0]: row[1] for row in rows}

    async def storage_id(self, entity: str) -> int:
        """Where a table's rows are stored (PostgreSQL's relfilenode, SQLite's root page):
        it changes exactly when the table is rewritten."""
        async with self.services.database.read() as conn:
            if self.postgres:
                return await conn.scalar(text(
                    "SELECT c.relfilenode FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = :schema "
                    "AND c.relname = :table"),
                    {"schema": self.namespace.schema, "table": self.table(entity)})
            return await conn.scalar(text(
                "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = :table"),
                {"table": self.table(entity)})

async def admin_actor(services: Services) -> Actor:
    """The first administrator, as the pipeline and the app service see them."""
    async with services.database.read() as conn:
        row = (await conn.execute(select(users).where(users.c.email == ADMIN_EMAIL))
               ).mappings().one()
    return actor_from_row(row)


@pytest.fixture
async def shop(api: httpx.AsyncClient, services: Services) -> Shop:
    """The published app ``shop``; problems come back in English."""
    api.headers["Accept-Language"] = "en"
    created = await api.post("/api/apps", json={"slug": Shop.slug,
                                                "metadata": shop_document()})
    assert created.status_code == 201, created.text
    return Shop(api, services)


@pytest.fixture
async def admin(services: Services) -> Actor:
    return await admin_actor(services)
