"""Apps made from a template keep it as their base layer; their own changes are the overlay.
This module keeps the layers; apps/template_upgrades.py reads and upgrades them.

Upgrading to a newer template merges three ways (the base as installed, the app as it is,
the template as it is now): what only the template changed arrives, what only the app
changed stays, and what both changed differently is a conflict the administrator resolves
by choosing, per path, the app's or the template's value. The merge lands in the draft, to
be reviewed and published like any other change; the new template becomes the base when
that draft is published.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.validation import parse_document
from loom.platform.storage.system_tables import app_bases


def normalized(document: dict[str, Any]) -> dict[str, Any]:
    """The document as a publish stores it, so layers compare like with like."""
    return parse_document(document).to_json()


async def install_base(conn: AsyncConnection, app_id: int, template: dict[str, Any],
                       at: datetime) -> None:
    base = normalized(template)
    await conn.execute(insert(app_bases).values(
        app_id=app_id, template=base["app"]["template"],
        template_version=base["app"].get("template_version"), document=base,
        installed_at=at))


async def base_of(conn: AsyncConnection, app_id: int) -> Any:
    return (await conn.execute(select(app_bases).where(app_bases.c.app_id == app_id))
            ).mappings().first()


async def promote_pending(conn: AsyncConnection, app_id: int, at: datetime) -> None:
    """A published upgrade makes its template the new base."""
    row = await base_of(conn, app_id)
    if row is None or row["pending_document"] is None:
        return
    await conn.execute(update(app_bases).where(app_bases.c.app_id == app_id).values(
        document=row["pending_document"], template_version=row["pending_version"],
        pending_document=None, pending_version=None, installed_at=at))


async def forget_pending(conn: AsyncConnection, app_id: int) -> None:
    await conn.execute(update(app_bases).where(app_bases.c.app_id == app_id).values(
        pending_document=None, pending_version=None))


async def forget_base(conn: AsyncConnection, app_id: int) -> None:
    await conn.execute(delete(app_bases).where(app_bases.c.app_id == app_id))


async def hold_pending(conn: AsyncConnection, app_id: int, template: dict[str, Any],
                       version: Any) -> None:
    """An upgrade prepared in the draft: its template becomes the base once published."""
    await conn.execute(update(app_bases).where(app_bases.c.app_id == app_id).values(
        pending_document=template, pending_version=version))
