"""The people of a dashboard test app: each a user (with a manager), a member of one role,
and an API client of their own reading English."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from loom.platform.api.app import create_app
from loom.platform.security.tokens import issue_token
from loom.platform.security.users import NewUser, create_user
from loom.platform.services import Services
from loom.platform.storage.system_tables import users

# name -> (manager's name, role); a role of None: the person has no role in the app
People = dict[str, tuple[str | None, str | None]]


async def staff(services: Services, admin: httpx.AsyncClient, slug: str,
                people: People) -> tuple[dict[str, int], dict[str, httpx.AsyncClient]]:
    """Add ``people`` to the admin's workspace and to the roles of app ``slug``; their
    user ids and clients by name."""
    ids: dict[str, int] = {}
    async with services.database.write() as conn:
        workspace = await conn.scalar(select(users.c.workspace_id).where(
            users.c.email == "admin@example.com"))
        for name, (manager, _role) in people.items():
            row = await create_user(conn, workspace, NewUser(
                email=f"{name}@example.com", name=name.title(),
                manager=f"{manager}@example.com" if manager else None), services.clock)
            ids[name] = row["id"]
        tokens = {name: await issue_token(conn, ids[name], services.clock) for name in people}
    for role in sorted({role for _manager, role in people.values() if role}):
        members = [f"{n}@example.com" for n, (_m, r) in people.items() if r == role]
        put = await admin.put(f"/api/apps/{slug}/roles/{role}", json={"members": members})
        assert put.status_code == 200, put.text
    app = create_app(services=services)
    clients = {name: httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://loom.test",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
        for name, token in tokens.items()}
    return ids, clients
