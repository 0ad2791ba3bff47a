"""The app ``sales`` of the import and export tests: customers and their contracts, labels
in both languages, a rule and a formula, and two roles — a sales rep who may export and
import their own records (credit limits hidden), and a viewer who may only read."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from sqlalchemy import select

from loom.platform.api.app import create_app
from loom.platform.security.tokens import issue_token
from loom.platform.security.users import NewUser, create_user
from loom.platform.services import Services
from loom.platform.storage.system_tables import users


def label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


DOC: dict[str, Any] = {
    "app": {"label": label("销售", "Sales")},
    "entities": {
        "customer": {"label": label("客户", "Customer"), "fields": {
            "name": {"type": "text", "required": True, "label": label("名称", "Name")},
            "code": {"type": "text", "unique": True, "label": label("编码", "Code")},
            "tier": {"type": "select", "label": label("等级", "Tier"), "default": "normal",
                     "options": [{"value": "vip", "label": label("重要客户", "VIP")},
                                 {"value": "normal", "label": label("普通客户", "Normal")}]},
            "credit_limit": {"type": "currency", "label": label("信用额度", "Credit limit")},
            "active": {"type": "boolean", "label": label("有效", "Active")},
            "since": {"type": "date", "label": label("签约日期", "Customer since")},
            "email": {"type": "email", "label": label("邮箱", "Email")},
            "owner": {"type": "user", "label": label("负责人", "Owner")},
            "tags": {"type": "multiselect", "label": label("标签", "Tags"), "options": [
                {"value": "key", "label": label("重点", "Key account")},
                {"value": "new", "label": label("新客户", "New")}]},
            "notes": {"type": "textarea", "label": label("备注", "Notes")}}},
        "contract": {"label": label("合同", "Contract"), "fields": {
            "title": {"type": "text", "required": True, "label": label("标题", "Title")},
            "customer": {"type": "lookup", "ref": "customer", "required": True,
                         "label": label("客户", "Customer")},
            "amount": {"type": "currency", "label": label("金额", "Amount")},
            "signed_at": {"type": "datetime", "label": label("签署时间", "Signed at")},
            "grade": {"type": "text", "label": label("级别", "Grade")},
            "amount_wan": {"type": "formula", "formula": "ROUND(amount / 10000, 2)",
                           "returns": "decimal", "label": label("金额（万）", "Amount (10k)")},
            "owner": {"type": "user"}}},
    },
    "rules": {"big_contract": {
        "entity": "contract", "trigger": {"on": "create"},
        "condition": {">": [{"var": "amount"}, 100000]},
        "actions": [{"type": "set_field", "field": "grade", "value": "A"}]}},
    "roles": {
        "rep": {"permissions": {
            "customer": {"create": True, "read": "own", "update": "own", "export": True,
                         "import": True, "fields": {"credit_limit": "hidden"}},
            "contract": {"create": True, "read": "own", "update": "own", "export": True,
                         "import": True}}},
        "viewer": {"permissions": {"customer": {"read": "all"}, "contract": {"read": "all"}}},
    },
}

CUSTOMERS = "/api/apps/sales/records/customer"
CONTRACTS = "/api/apps/sales/records/contract"


def csv_text(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def read_csv(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), "CSV exports start with a BOM for Excel"
    return list(csv.reader(io.StringIO(text[1:])))


async def import_csv(client: httpx.AsyncClient, entity: str, rows: list[list[Any]],
                     **params: Any) -> httpx.Response:
    return await client.post(f"/api/apps/sales/records/{entity}/import", params=params,
                             content=csv_text(rows).encode("utf-8"),
                             headers={"Content-Type": "text/csv"})


class People:
    """Users with roles in ``sales``, each with an API client (English answers)."""

    def __init__(self, services: Services, admin: httpx.AsyncClient) -> None:
        self.services = services
        self.admin = admin
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.ids: dict[str, int] = {}
        self.members: dict[str, list[str]] = {}

    async def add(self, name: str, role: str | None) -> httpx.AsyncClient:
        async with self.services.database.write() as conn:
            workspace = await conn.scalar(select(users.c.workspace_id).where(
                users.c.email == "admin@example.com"))
            row = await create_user(conn, workspace, NewUser(
                email=f"{name}@example.com", name=name, password=None), self.services.clock)
            token = await issue_token(conn, row["id"], self.services.clock)
        self.ids[name] = row["id"]
        if role:
            members = self.members.setdefault(role, [])
            members.append(f"{name}@example.com")
            put = await self.admin.put(f"/api/apps/sales/roles/{role}",
                                       json={"members": members})
            assert put.status_code == 200, put.text
        client = httpx.AsyncClient(transport=httpx.ASGITransport(
            app=create_app(services=self.services)), base_url="http://loom.test",
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
        self.clients[name] = client
        return client

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
