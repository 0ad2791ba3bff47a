"""What every ``loom`` command shares: the Typer apps, running an async command with platform
errors turned into messages (never a traceback), and a session on the database."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import typer

from loom.metamodel.errors import LoomError
from loom.metamodel.i18n import pick_locale
from loom.platform.apps.service import AppService
from loom.platform.clock import Clock
from loom.platform.compiled.app import RuntimeCache
from loom.platform.security.actors import Actor, system_actor
from loom.platform.security.users import ensure_workspace
from loom.platform.settings import Settings
from loom.platform.storage.database import Database
from loom.platform.storage.migrate import current_revision, head_revision

cli = typer.Typer(help="Loom: metadata-driven business apps.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_cli = typer.Typer(help="The platform database.", no_args_is_help=True)
app_cli = typer.Typer(help="Apps: create or clone, check, export, import, versions, diff, "
                      "rollback, template upgrades.", no_args_is_help=True)
user_cli = typer.Typer(help="Users.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(app_cli, name="app")
cli.add_typer(user_cli, name="user")

T = TypeVar("T")


def locale() -> str:
    return pick_locale(os.environ.get("LOOM_LOCALE") or os.environ.get("LANG", "en")
                       .split(".")[0].replace("_", "-"), default="en")


def fail(error: LoomError) -> None:
    where_locale = locale()
    typer.echo(f"error: {error.render_detail(where_locale)}", err=True)
    for problem in error.problems:
        rendered = problem.render(where_locale)
        where = f"{rendered['field']}: " if rendered.get("field") else ""
        prefix = f"[{rendered['index']}] " if "index" in rendered else ""
        typer.echo(f"  - {prefix}{where}{rendered['message']}", err=True)
    for conflict in error.extra.get("conflicts", []):
        typer.echo(f"  - conflict at {conflict['path']}: app {conflict['app']!r}, "
                   f"template {conflict['template']!r}", err=True)
    raise typer.Exit(1)


def command(function: Callable[..., Awaitable[T]]) -> Callable[..., T | None]:
    """Run an async command; a platform error becomes a message and exit code 1."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> T | None:
        try:
            return asyncio.run(function(*args, **kwargs))
        except LoomError as error:
            fail(error)
        except OSError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        return None

    return run


def open_database(settings: Settings) -> Database:
    return settings.open_database()


async def ensure_ready(database: Database) -> None:
    if await current_revision(database) != head_revision():
        raise LoomError("The database is not up to date; run: loom db upgrade")


@dataclass
class Session:
    """A command's view of the platform: the database, the app service, who is acting."""

    database: Database
    apps: AppService
    actor: Actor
    clock: Clock


@asynccontextmanager
async def services_session(workspace: str) -> AsyncIterator[tuple[Any, Actor]]:
    """All the platform's services (the write pipeline with its rules and flows), as the
    workspace's system actor — for commands that write records."""
    from loom.platform.services import build_services

    services = build_services(Settings(), Clock())
    try:
        await ensure_ready(services.database)
        async with services.database.write() as conn:
            workspace_id = await ensure_workspace(conn, workspace, services.clock)
        yield services, system_actor(workspace_id, "cli")
    finally:
        await services.database.dispose()


@asynccontextmanager
async def session(workspace: str) -> AsyncIterator[Session]:
    """The database (migrated, or a clear error), as the workspace's system actor."""
    settings, clock = Settings(), Clock()
    database = open_database(settings)
    try:
        await ensure_ready(database)
        async with database.write() as conn:
            workspace_id = await ensure_workspace(conn, workspace, clock)
        service = AppService(RuntimeCache(), clock, postgres=database.is_postgres,
                             ddl_lock_timeout_ms=settings.ddl_lock_timeout_ms)
        yield Session(database, service, system_actor(workspace_id, "cli"), clock)
    finally:
        await database.dispose()
