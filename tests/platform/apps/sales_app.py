"""A small sales app for the metadata lifecycle tests: customers, opportunities with stages,
a rule and an approval flow — enough to change every kind of item."""

from __future__ import annotations

import copy
from typing import Any

import httpx

SALES: dict[str, Any] = {
    "app": {"label": {"zh-CN": "销售", "en": "Sales"}},
    "entities": {
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
            "name": {"type": "text", "label": {"zh-CN": "名称", "en": "Name"}, "required": True},
            "region": {"type": "text"}}},
        "opportunity": {"label": {"zh-CN": "商机", "en": "Opportunity"}, "fields": {
            "name": {"type": "text", "required": True},
            "customer": {"type": "lookup", "ref": "customer"},
            "amount": {"type": "currency"},
            "stage": {"type": "select", "default": "initial_contact", "options": [
                {"value": "initial_contact",
                 "label": {"zh-CN": "初步接洽", "en": "Initial contact"}},
                {"value": "demo", "label": {"zh-CN": "方案演示", "en": "Demo"}},
                {"value": "won", "label": {"zh-CN": "赢单", "en": "Won"}, "category": "won"}]},
            "flagged": {"type": "boolean"}}}},
    "rules": {"big_deal": {
        "entity": "opportunity", "trigger": {"on": "create"},
        "condition": {">": [{"var": "amount"}, 100000]},
        "actions": [{"type": "set_field", "field": "flagged", "value": True}]}},
    "flows": {"approval": {
        "entity": "opportunity", "start": {"on": "manual"},
        "nodes": {"manager": {"type": "user_task", "label": "Manager",
                              "assignees": [{"kind": "initiator"}]},
                  "done": {"type": "end"}},
        "edges": [{"from": "start", "to": "manager"},
                  {"from": "manager", "to": "done", "outcome": "approve"},
                  {"from": "manager", "to": "done", "outcome": "reject"}]}},
}


def sales() -> dict[str, Any]:
    return copy.deepcopy(SALES)


class App:
    """One app of the tests, driven through the public API."""

    def __init__(self, api: httpx.AsyncClient, slug: str) -> None:
        self.api = api
        self.slug = slug
        self.base = f"/api/apps/{slug}"

    async def publish(self, document: dict[str, Any], **body: Any) -> httpx.Response:
        saved = await self.api.put(f"{self.base}/metadata/draft", json=document)
        assert saved.status_code == 200, saved.text
        return await self.api.post(f"{self.base}/metadata/publish", json=body)

    async def published(self, document: dict[str, Any], **body: Any) -> dict[str, Any]:
        response = await self.publish(document, **body)
        assert response.status_code == 200, response.text
        return response.json()

    async def metadata(self) -> dict[str, Any]:
        response = await self.api.get(f"{self.base}/metadata")
        assert response.status_code == 200, response.text
        return response.json()

    async def version(self) -> int:
        response = await self.api.get(self.base)
        assert response.status_code == 200, response.text
        return response.json()["version"]

    async def create(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.post(f"{self.base}/records/{entity}", json=data)
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, entity: str, record_id: int) -> dict[str, Any]:
        response = await self.api.get(f"{self.base}/records/{entity}/{record_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def diff(self, **params: Any) -> list[str]:
        response = await self.api.get(f"{self.base}/metadata/diff", params=params)
        assert response.status_code == 200, response.text
        return [f"{c['section']}.{c['item']}: {c['summary']}"
                for c in response.json()["changes"]]
