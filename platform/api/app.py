"""The HTTP application: routes, error mapping, middleware, and the services they share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from loom.platform.api import problems
from loom.platform.api.middleware import BodyLimit, RequestContext
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.routes import (
    apps,
    audit,
    auth,
    flows,
    health,
    inbox,
    metadata,
    record_actions,
    records,
    roles,
    rules,
    tasks,
    users,
)
from loom.platform.services import Services, build_services
from loom.platform.settings import Settings


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
    for module in (health, auth, users, apps, metadata, roles, records, record_actions, inbox,
                   rules, tasks, flows, audit):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, settings=shared.settings)
    app.add_middleware(RequestContext)
    return app
