"""The first start of an empty workspace: a CRM to open at once.

When ``loom serve`` starts on a workspace that has never had an app (none now, none in the
metadata audit, which outlives deleted apps), it clones the CRM template into an app
``crm`` (a second or two: the server waits for it, so the first page already
shows the app) and starts its small demo data loading in the background — an operation the
web app shows as a progress banner. ``LOOM_FIRST_RUN=blank`` starts with an empty
workspace instead; so does a PostgreSQL database unless ``LOOM_FIRST_RUN=crm`` asks for the
CRM there too (a production server is rarely wanted with a demo company in it).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select

from loom.platform.apps.cloning import clone_template
from loom.platform.demo import prepare_demo, write_demo
from loom.platform.operations import OperationRunner, Progress
from loom.platform.operations import store as operations
from loom.platform.security.users import actor_from_row
from loom.platform.services import Services
from loom.platform.storage.system_tables import apps, metadata_audit, users

log = logging.getLogger("loom.first_run")
SLUG = "crm"
TEMPLATE = "crm"
DEMO_SIZE = "small"


def wants_crm(services: Services) -> bool:
    """What the first start should give: the CRM (embedded default) or nothing."""
    choice = services.settings.first_run
    return choice == "crm" or (choice is None and services.settings.is_sqlite)


async def start_first_run(services: Services, runner: OperationRunner) -> int | None:
    """Clone the CRM and start its demo data; the demo's operation id (None: nothing done:
    the workspace has, or had, an app)."""
    async with services.database.write() as conn:
        for table in (apps, metadata_audit):
            if await conn.scalar(select(func.count()).select_from(table)):
                return None
        admin = (await conn.execute(select(users).where(users.c.is_admin)
                                    .order_by(users.c.id))).mappings().first()
        if admin is None:
            return None
        actor = actor_from_row(admin)
        await clone_template(services.apps, services.pipeline, conn, actor, SLUG, TEMPLATE)
        prepared = await prepare_demo(services, conn, actor, SLUG, size=DEMO_SIZE)
        operation_id = await operations.create(
            conn, actor, "demo_load", app_id=prepared.app_id, params=prepared.as_json(),
            now=services.clock.now())

    async def work(progress: Progress) -> dict[str, Any]:
        return (await write_demo(services, actor, prepared, progress)).as_json()

    runner.launch(operation_id, work)
    log.info("first run: the CRM is ready, its demo data loading",
             extra={"app": SLUG, "operation_id": operation_id})
    return operation_id
