"""The app ``ledger`` for tests of the write pipeline and record reads, driven directly (no
HTTP) on both databases; the fixture ``ledger`` in conftest.py publishes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from loom.platform.records.reads import ListQuery, Page, list_records
from loom.platform.security.actors import Actor
from loom.platform.services import Services

LEDGER = {
    "app": {"label": {"zh-CN": "账本", "en": "Ledger"}},
    "entities": {
        "party": {"label": {"zh-CN": "往来方", "en": "Party"}, "fields": {
            "name": {"type": "text", "unique": True}}},
        "entry": {"label": {"zh-CN": "分录", "en": "Entry"}, "fields": {
            "memo": {"type": "text", "label": {"zh-CN": "摘要", "en": "Memo"}},
            "rank": {"type": "integer"},
            "amount": {"type": "currency"},
            "booked": {"type": "date"},
            "paid": {"type": "boolean"},
            "party": {"type": "lookup", "ref": "party"},
            "owner": {"type": "user"},
            "code": {"type": "text", "unique": True},
            "barcode": {"type": "text", "unique": True,
                        "label": {"zh-CN": "条码", "en": "Barcode"}},
            "checked": {"type": "boolean", "readonly": True},
            "status": {"type": "select", "options": [{"value": "draft"},
                                                     {"value": "posted"}]}}},
    },
}


class Ledger:
    """The app ``ledger``, written and read through the pipeline as its administrator."""

    slug = "ledger"

    def __init__(self, services: Services, actor: Actor) -> None:
        self.services = services
        self.actor = actor

    async def create_many(self, entity: str, rows: list[Any]) -> list[dict[str, Any]]:
        async with self.services.database.write() as conn:
            runtime = await self.services.apps.runtime(conn, self.actor, self.slug)
            return await self.services.pipeline.create_many(conn, runtime, self.actor, entity,
                                                            rows)

    async def update(self, entity: str, record_id: int, data: Any,
                     **options: Any) -> dict[str, Any]:
        async with self.services.database.write() as conn:
            runtime = await self.services.apps.runtime(conn, self.actor, self.slug)
            return await self.services.pipeline.update(conn, runtime, self.actor, entity,
                                                       record_id, data, **options)

    async def page(self, entity: str, query: ListQuery) -> Page:
        async with self.services.database.read() as conn:
            runtime = await self.services.apps.runtime(conn, self.actor, self.slug)
            return await list_records(conn, runtime, self.actor, entity, query,
                                      self.services.clock.now())

    async def clear(self, entity: str) -> None:
        async with self.services.database.write() as conn:
            runtime = await self.services.apps.runtime(conn, self.actor, self.slug)
            await conn.execute(delete(runtime.tables[entity]))
