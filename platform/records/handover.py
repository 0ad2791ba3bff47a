"""Handing a departed person's records to their successor: in every published app of the
workspace, each record whose owner field (``EntitySpec.owner``) names them gets the
successor as owner.

Each change goes through the write pipeline as the administrator who deactivated them — so
it is audited, validated, and the app's rules see an owner change as they would see one
made by hand (a rule that notifies the new owner does so). Each record is its own
savepoint: one that its rules or checks refuse keeps its owner and is reported, the others
move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import ExpressionError
from loom.metamodel.errors import LoomError, describe_error
from loom.platform.records.pipeline import RecordPipeline
from loom.platform.security.actors import Actor
from loom.platform.security.departures import REASSIGNERS, deactivate_user
from loom.platform.security.permissions import FULL_ACCESS
from loom.platform.storage.system_tables import apps

if TYPE_CHECKING:
    from loom.platform.apps.service import AppService


@dataclass
class RecordHandover:
    """A reassigner (``platform/security/departures.py``) of owned records; ``refused``
    lists the records that stayed, with the reason."""

    apps: AppService
    pipeline: RecordPipeline
    refused: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, conn: AsyncConnection, actor: Actor, from_user: int,
                       to_user: int, now: datetime) -> int:
        slugs = (await conn.execute(select(apps.c.slug).where(
            apps.c.workspace_id == actor.workspace_id, apps.c.current_version.is_not(None))
            .order_by(apps.c.id))).scalars().all()
        moved = 0
        for slug in slugs:
            runtime, member = await self.apps.enter(conn, actor, slug)
            for entity, spec in runtime.doc.entities.items():
                owner = spec.owner()
                if owner is None:
                    continue
                table = runtime.tables[entity]
                ids = (await conn.execute(select(table.c.id).where(
                    table.c[owner] == from_user).order_by(table.c.id))).scalars().all()
                for record_id in ids:
                    try:
                        async with conn.begin_nested():
                            await self.pipeline.update(conn, runtime, member, entity,
                                                       record_id, {owner: to_user},
                                                       access=FULL_ACCESS)
                    except (LoomError, ExpressionError) as exc:
                        self.refused.append({
                            "app": slug, "entity": entity, "id": record_id,
                            "reason": describe_error(exc, member.locale or
                                                     runtime.doc.app.default_locale)})
                        continue
                    moved += 1
        return moved


async def deactivate_and_hand_over(conn: AsyncConnection, apps: AppService,
                                   pipeline: RecordPipeline, actor: Actor, user_id: int,
                                   now: datetime, reassign_to: str | None) -> dict[str, Any]:
    """Deactivate a departed user and hand their open tasks and owned records to
    ``reassign_to`` — what the API and ``loom user deactivate`` do."""
    records = RecordHandover(apps, pipeline)
    result = await deactivate_user(conn, actor, user_id, now, reassign_to=reassign_to,
                                   reassigners={**REASSIGNERS, "records": records})
    return {**result, "not_reassigned": records.refused}
