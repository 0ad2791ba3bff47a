"""The HTTP application: routes, error mapping, middleware, and the services they share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from loom.platform.api import problems
from loom.platform.api.context import Services
from loom.platform.api.middleware import RequestContext
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.routes import apps, auth, health, records, users
from loom.platform.apps.runtime import RuntimeCache
from loom.platform.apps.service import AppService
from loom.platform.clock import Clock
from loom.platform.records.pipeline import RecordPipeline
from loom.platform.records.rollups import RollupHook
from loom.platform.settings import Settings
from loom.platform.storage.database import Database, create_engine


def build_services(settings: Settings, clock: Clock | None = None,
                   database: Database | None = None) -> Services:
    clock = clock or Clock()
    database = database or Database(create_engine(settings.resolved_database_url()))
    apps_service = AppService(RuntimeCache(), clock, postgres=database.is_postgres,
                              ddl_lock_timeout_ms=settings.ddl_lock_timeout_ms)
    pipeline = RecordPipeline(clock)
    pipeline.hooks.append(RollupHook(pipeline))
    return Services(settings=settings, database=database, clock=clock, apps=apps_service,
                    pipeline=pipeline)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """The ASGI app. Pass ``services`` to share a database/clock (tests, the CLI)."""
    settings = settings or (services.settings if services else Settings())
    owned = services is None
    shared = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            await shared.database.dispose()

    app = FastAPI(title="Loom", version="0.1.0", lifespan=lifespan,
                  default_response_class=LoomJSONResponse,
                  description="Metadata-driven platform for CRM-style business apps. Each "
                  "app's record endpoints are described at /api/apps/{app}/openapi.json.")
    app.state.services = shared
    problems.install(app)
    for module in (health, auth, users, apps, records):
        app.include_router(module.router)
    app.add_middleware(RequestContext)
    return app
