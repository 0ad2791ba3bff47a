"""Handing a departed person's records to their successor: in every published app of the
workspace, each record whose owner field (``EntitySpec.owner``) names them gets the
successor as owner.

Each change goes through the write pipeline as the administrator who deactivated them — so
it is audited, validated, and the app's rules see an owner change as they would see one
made by hand (a rule that notifies the new owner does so). Each record is its own
savepoint: one that its rules or checks refuse keeps its owner and is reported, the others
move.

The records are found in the deactivation's transaction and moved after it committed, in
short transactions (``ShortTransactions``): a person may own thousands of records, and
moving them must not hold SQLite's write lock for long. Few records are moved before the
request answers; many, as an operation the administrator follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import ExpressionError
from loom.metamodel.errors import LoomError, describe_error
from loom.metamodel.i18n import message, register_messages
from loom.platform.operations.progress import Progress, Step
from loom.platform.security.actors import Actor
from loom.platform.security.departures import Reassigner, deactivate_user, successor_id
from loom.platform.security.permissions import FULL_ACCESS
from loom.platform.storage.chunks import ShortTransactions
from loom.platform.storage.system_tables import apps

if TYPE_CHECKING:
    from loom.platform.services import Services

INLINE_RECORDS = 50  # a hand-over of more records runs as an operation

register_messages({
    "handover_step": {"en": "Records handed over", "zh-CN": "移交记录"},
})


@dataclass(frozen=True)
class OwnedRecords:
    """The records of one entity of one app whose owner field names the departed person."""

    slug: str
    entity: str
    owner: str
    ids: list[int]


@dataclass
class RecordHandover:
    """The records ``from_user`` owns, to be moved to ``to_user`` by ``actor``; ``refused``
    lists those that stayed, with the reason."""

    actor: Actor
    from_user: int
    to_user: int
    owned: list[OwnedRecords]
    refused: list[dict[str, Any]] = field(default_factory=list)
    moved: int = 0

    @property
    def count(self) -> int:
        return sum(len(group.ids) for group in self.owned)

    async def move(self, services: Services, progress: Progress | None = None) -> dict[str, Any]:
        """Move every record, a few per short transaction; what moved and what stayed."""
        progress = progress or Progress()
        chunks = ShortTransactions(services.database,
                                   budget_ms=services.settings.write_chunk_ms,
                                   before_commit=progress.save)
        progress.note(0, self.count, Step("records", message("handover_step")))
        async with chunks:
            for group in self.owned:
                conn = await chunks.connection()
                runtime, member = await services.apps.enter(conn, self.actor, group.slug)
                for record_id in group.ids:
                    conn = await chunks.connection()
                    await self._move_one(services, conn, runtime, member, group, record_id)
                    progress.so_far.update(self.as_json())
                    progress.note(self.moved + len(self.refused))
                    await chunks.checkpoint()
        return self.as_json()

    async def _move_one(self, services: Services, conn: AsyncConnection, runtime: Any,
                        member: Actor, group: OwnedRecords, record_id: int) -> None:
        try:
            async with conn.begin_nested():
                await services.pipeline.update(conn, runtime, member, group.entity,
                                               record_id, {group.owner: self.to_user},
                                               access=FULL_ACCESS)
        except (LoomError, ExpressionError) as exc:
            self.refused.append({
                "app": group.slug, "entity": group.entity, "id": record_id,
                "reason": describe_error(exc, member.locale or
                                         runtime.doc.app.default_locale)})
            return
        self.moved += 1

    def as_json(self) -> dict[str, Any]:
        return {"records": self.moved, "not_reassigned": list(self.refused)}


async def owned_records(conn: AsyncConnection, services: Services, actor: Actor,
                        from_user: int) -> list[OwnedRecords]:
    """What ``from_user`` owns in the published apps of the actor's workspace."""
    slugs = (await conn.execute(select(apps.c.slug).where(
        apps.c.workspace_id == actor.workspace_id, apps.c.current_version.is_not(None))
        .order_by(apps.c.id))).scalars().all()
    found = []
    for slug in slugs:
        runtime, _ = await services.apps.enter(conn, actor, slug)
        for entity, spec in runtime.doc.entities.items():
            owner = spec.owner()
            if owner is None:
                continue
            table = runtime.tables[entity]
            ids = (await conn.execute(select(table.c.id).where(
                table.c[owner] == from_user).order_by(table.c.id))).scalars().all()
            if ids:
                found.append(OwnedRecords(slug, entity, owner, list(ids)))
    return found


async def deactivate(conn: AsyncConnection, services: Services, actor: Actor, user_id: int,
                     now: datetime, reassign_to: str | None,
                     reassigners: Mapping[str, Reassigner],
                     ) -> tuple[dict[str, Any], RecordHandover | None]:
    """Deactivate a departed user and hand their open tasks to ``reassign_to``, in the
    caller's transaction; the hand-over of their records to run once it committed."""
    result = await deactivate_user(conn, actor, user_id, now, reassign_to=reassign_to,
                                   reassigners=reassigners)
    if not reassign_to:
        return {**result, "not_reassigned": []}, None
    successor = await successor_id(conn, actor, reassign_to, user_id)
    owned = await owned_records(conn, services, actor, user_id)
    return result, RecordHandover(actor, user_id, successor, owned)


def handed_over(result: dict[str, Any], moved: dict[str, Any]) -> dict[str, Any]:
    """The deactivation's answer with what the records' hand-over did."""
    return {**result, "reassigned": {**result["reassigned"], "records": moved["records"]},
            "not_reassigned": moved["not_reassigned"]}
