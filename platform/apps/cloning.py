"""Cloning a starter template into a new, independent app: the template's metadata becomes
version 1 (and the base layer for later template upgrades), its seed records are created
through the write pipeline, all in the caller's transaction."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.apps.service import AppService, PublishResult
from loom.platform.apps.templates import load_template, template_seed
from loom.platform.records.pipeline import RecordPipeline
from loom.platform.security.actors import Actor


async def clone_template(apps: AppService, pipeline: RecordPipeline, conn: AsyncConnection,
                         actor: Actor, slug: str, template: str, *,
                         label: Any = None) -> PublishResult:
    base = load_template(template)
    document = copy.deepcopy(base)
    if label:
        document["app"] = {**document["app"], "label": label}
    result = await apps.create(conn, actor, slug, document, base=base)
    seed = template_seed(template)
    if seed:
        runtime = await apps.runtime(conn, actor, slug)
        for entity, records in seed.items():
            await pipeline.create_many(conn, runtime, actor.via("import"), entity, records)
    return result
