"""The people, roles and app of the permission tests: a sales department with a sub-team,
support, and a second workspace; each person gets their own API client."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import insert, select, update

from loom.platform.api.app import create_app
from loom.platform.security.tokens import issue_token
from loom.platform.security.users import NewUser, create_user, ensure_workspace
from loom.platform.services import Services
from loom.platform.storage.system_tables import departments, users

DOC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "客户", "en": "Accounts"}},
    "entities": {"customer": {
        "label": {"zh-CN": "客户", "en": "Customer"},
        "fields": {
            "name": {"type": "text", "required": True},
            "region": {"type": "select", "options": [{"value": "east"}, {"value": "north"}]},
            "credit_limit": {"type": "currency"},
            "notes": {"type": "text"},
            "code": {"type": "text"},
            "photo": {"type": "image"},
            "contract_scan": {"type": "file"},
            "owner": {"type": "user"}},
        "actions": {"flag": {"label": "Flag", "steps": [
            {"type": "set_field", "field": "notes", "value": "flagged"}]}}},
        "contact": {"label": {"zh-CN": "联系人", "en": "Contact"}, "fields": {
            "name": {"type": "text"},
            "customer": {"type": "lookup", "ref": "customer"}}}},
    "views": {"customers": {"entity": "customer", "label": {"zh-CN": "客户", "en": "Customers"},
                            "columns": ["name", "region", "credit_limit", "code"],
                            "sort": "id"}},
    "dashboards": {"accounts": {"label": {"zh-CN": "客户", "en": "Accounts"}, "widgets": [
        {"kind": "metric", "name": "customers", "label": {"zh-CN": "客户数", "en": "Customers"},
         "entity": "customer", "period": "all"},
        {"kind": "metric", "name": "credit", "label": {"zh-CN": "授信", "en": "Credit"},
         "entity": "customer", "aggregate": "sum", "field": "credit_limit", "period": "all"},
        {"kind": "breakdown", "name": "by_name", "label": {"zh-CN": "按名称", "en": "By name"},
         "entity": "customer", "group_by": "name", "period": "all",
         "measures": [{"name": "customers"}]}]}},
    "flows": {"review": {
        "entity": "customer", "start": {"on": "manual"},
        "nodes": {"check": {"type": "user_task", "label": "Check",
                            "assignees": [{"kind": "initiator"}]},
                  "done": {"type": "end"}},
        "edges": [{"from": "start", "to": "check"},
                  {"from": "check", "to": "done", "outcome": "approve"},
                  {"from": "check", "to": "done", "outcome": "reject"}]}},
    "roles": {
        "rep": {"label": {"zh-CN": "销售", "en": "Sales rep"}, "permissions": {"customer": {
            "create": True, "read": "own", "update": "own",
            "fields": {"credit_limit": "hidden", "region": "read", "code": "hidden"}},
            "contact": {"read": "all"}}},
        "manager": {"permissions": {"customer": {
            "create": True, "read": "team", "update": "team", "delete": "team",
            "export": True}, "contact": {"read": "all"}}},
        "east_desk": {"permissions": {"customer": {
            "read": {"==": [{"var": "region"}, "east"]}, "export": True,
            "fields": {"credit_limit": "hidden", "code": "hidden",
                       "contract_scan": "hidden"}},
            "contact": {"read": "all"}}},
        "department": {"permissions": {"customer": {"read": "department"},
                                       "contact": {"read": "all"}}},
        "auditor": {"permissions": {"customer": {"read": "all", "export": True,
                                                 "fields": {"notes": "read"}},
                                    "contact": {"read": "all"}}},
    },
}

# who: (department, manager, role)
PEOPLE = {
    "boss": ("sales", None, "manager"),
    "rep1": ("sales", "boss", "rep"),
    "rep2": ("sales_east", "boss", "rep"),
    "desk": ("support", None, "east_desk"),
    "head": ("sales", None, "department"),
    "audit": ("finance", None, "auditor"),
    "nobody": ("support", None, None),
}


class Company:
    """Clients for each person, plus the admin's."""

    def __init__(self, services: Services, admin: httpx.AsyncClient) -> None:
        self.services = services
        self.admin = admin
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.ids: dict[str, int] = {}

    async def setup(self) -> None:
        created = await self.admin.post("/api/apps", json={"slug": "acct", "metadata": DOC})
        assert created.status_code == 201, created.text
        async with self.services.database.write() as conn:
            workspace = await conn.scalar(select(users.c.workspace_id).where(
                users.c.email == "admin@example.com"))
            for name, (department, manager, _role) in PEOPLE.items():
                row = await create_user(conn, workspace, NewUser(
                    email=f"{name}@example.com", name=name, password=None,
                    manager=f"{manager}@example.com" if manager else None,
                    department=department), self.services.clock)
                self.ids[name] = row["id"]
            # sales_east is a sub-department of sales
            sales = await conn.scalar(select(departments.c.id).where(
                departments.c.name == "sales"))
            await conn.execute(update(departments).where(departments.c.name == "sales_east")
                               .values(parent_id=sales))
            other = await ensure_workspace(conn, "other", self.services.clock)
            stranger = await create_user(conn, other, NewUser(
                email="stranger@example.com", name="stranger", password=None,
                is_admin=True), self.services.clock)
            self.ids["stranger"] = stranger["id"]
            tokens = {name: await issue_token(conn, self.ids[name], self.services.clock)
                      for name in [*PEOPLE, "stranger"]}
        for role in {r for (_d, _m, r) in PEOPLE.values() if r}:
            members = [f"{n}@example.com" for n, (_d, _m, r) in PEOPLE.items() if r == role]
            put = await self.admin.put(f"/api/apps/acct/roles/{role}",
                                       json={"members": members})
            assert put.status_code == 200, put.text
        app = create_app(services=self.services)
        for name, token in tokens.items():
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                       base_url="http://loom.test",
                                       headers={"Authorization": f"Bearer {token}",
                                                "Accept-Language": "en"})
            self.clients[name] = client

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def customer(self, name: str, owner: str | None, region: str = "east",
                       **more: Any) -> int:
        body = {"name": name, "region": region, "credit_limit": 50000, "notes": "n",
                "code": f"KH-{name}", "owner": self.ids[owner] if owner else None, **more}
        response = await self.admin.post("/api/apps/acct/records/customer", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]


async def add_to_table(services: Services, table: Any, **values: Any) -> None:
    async with services.database.write() as conn:
        await conn.execute(insert(table).values(**values))
