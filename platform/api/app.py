"""The HTTP application: routes, error mapping, middleware, and the services they share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

from loom.platform.api import problems
from loom.platform.api.guards import sane_address
from loom.platform.api.hardening import SecurityHeaders, StrictCORS, cors_options
from loom.platform.api.middleware import BodyLimit, RequestContext
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.routes import (
    apps,
    audit,
    auth,
    dashboards,
    data,
    demo,
    files,
    flows,
    health,
    inbox,
    jobs,
    me,
    metadata,
    metrics,
    operations,
    passwords,
    people,
    record_actions,
    records,
    recycle_bin,
    roles,
    rules,
    saved_views,
    search,
    sessions,
    tasks,
    tokens,
    users,
    views,
)
from loom.platform.api.web_app import mount_web_app
from loom.platform.first_run import start_first_run, wants_crm
from loom.platform.operations import OperationRunner
from loom.platform.services import Services, build_services
from loom.platform.settings import Settings


def operation_id(route: APIRoute) -> str:
    """An operation's id is its route's name (unique: tests/platform/api/test_openapi.py):
    clients generated from the document name their functions and inline models after it."""
    return route.name


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """The ASGI app. Pass ``services`` to share a database/clock (tests, the CLI)."""
    settings = settings or (services.settings if services else Settings())
    owned = services is None
    shared = services or build_services(settings)

    running = OperationRunner(shared)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await running.recover()  # operations a stopped server left behind
        if wants_crm(shared):  # a workspace that never had an app gets the CRM
            await start_first_run(shared, running)
        yield
        await running.shutdown()
        if owned:
            await shared.database.dispose()

    # /docs serves Swagger UI from the project's own assets (web_app.py); no ReDoc, which
    # would need a CDN
    app = FastAPI(title="Loom", version="0.1.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None, generate_unique_id_function=operation_id,
                  default_response_class=LoomJSONResponse,
                  dependencies=[Depends(sane_address)],
                  description="Metadata-driven platform for CRM-style business apps. Each "
                  "app's record endpoints are described at /api/apps/{app}/openapi.json.")
    app.state.services = shared
    app.state.operations = running
    problems.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    # Every command may be refused (problems.COMMAND_REFUSALS); each route declares the
    # refusals of its own (404, 409, a body's 413…). The routers below that do not yet
    # declare theirs get them here, where they are mounted.
    commands = problems.refusals(*problems.COMMAND_REFUSALS)
    mounted = {records: problems.refusals(404, 409, body=True),
               users: problems.refusals(404, 409, body=True),
               auth: problems.refusals(429, body=True),
               roles: problems.refusals(404, 409, body=True),
               data: problems.refusals(404, 409, 415, body=True),
               audit: problems.refusals(404),
               jobs: problems.refusals(404, 500, body=True),
               sessions: problems.refusals(429, body=True),
               tokens: problems.refusals(404, body=True),
               passwords: problems.refusals(429, body=True)}
    # data before records: ``…/records/{entity}/export`` is not a record id
    for module in (auth, users, me, people, apps, demo, metadata, roles, data, records,
                   record_actions, recycle_bin, search, inbox, rules, tasks, flows, audit,
                   views, saved_views, dashboards, jobs, files, operations, sessions, tokens,
                   passwords):
        app.include_router(module.router, responses={**commands, **mounted.get(module, {})})
    mount_web_app(app)  # the app's pages: whatever GET no route takes
    # the last added runs first: headers wrap everything, even the 500 of RequestContext
    app.add_middleware(BodyLimit, settings=shared.settings)
    app.add_middleware(StrictCORS, **cors_options(shared.settings))
    app.add_middleware(RequestContext)
    app.add_middleware(SecurityHeaders, settings=shared.settings)
    return app
