"""``loom user …``."""

from __future__ import annotations

import typer
from sqlalchemy import select

from loom.metamodel.errors import NotFound
from loom.platform.cli.common import (
    command,
    ensure_ready,
    open_database,
    services_session,
    user_cli,
)
from loom.platform.clock import Clock
from loom.platform.inbox.reassign import REASSIGNERS
from loom.platform.records.handover import deactivate, handed_over
from loom.platform.security.users import DEFAULT_WORKSPACE, NewUser, create_user, ensure_workspace
from loom.platform.settings import Settings
from loom.platform.storage.database import json_dumps
from loom.platform.storage.system_tables import users


@user_cli.command("create")
@command
async def user_create(email: str, name: str = typer.Option(..., help="Display name"),
                      password: str = typer.Option(None, help="Default: generated"),
                      admin: bool = typer.Option(False, help="Administrator"),
                      manager: str = typer.Option(None, help="Manager's email"),
                      department: str = typer.Option(None, help="Department name"),
                      workspace: str = typer.Option(DEFAULT_WORKSPACE)) -> None:
    """Create a user (prints a generated password when none is given)."""
    from loom.platform.security.passwords import generate_password

    generated = None if password else generate_password()
    settings, clock = Settings(), Clock()
    database = open_database(settings)
    try:
        await ensure_ready(database)
        async with database.write() as conn:
            workspace_id = await ensure_workspace(conn, workspace, clock)
            user = await create_user(conn, workspace_id, NewUser(
                email=email, name=name, password=password or generated, is_admin=admin,
                manager=manager, department=department), clock, source="cli")
    finally:
        await database.dispose()
    typer.echo(f"created user {user['email']} (id {user['id']})")
    if generated:
        typer.echo(f"password: {generated}  (shown once)")


@user_cli.command("deactivate")
@command
async def user_deactivate(email: str,
                          reassign_to: str = typer.Option(
                              None, help="The successor's email: gets the open tasks and "
                              "the records the user owns"),
                          workspace: str = typer.Option(DEFAULT_WORKSPACE)) -> None:
    """Deactivate a departed user (sign-in, tokens and reset links end) and print what was
    handed over, as JSON."""
    async with services_session(workspace) as (services, actor):
        async with services.database.write() as conn:
            user_id = await conn.scalar(select(users.c.id).where(
                users.c.email == email.strip().lower(),
                users.c.workspace_id == actor.workspace_id))
            if user_id is None:
                raise NotFound(f"There is no user {email} in workspace {workspace}")
            result, handover = await deactivate(conn, services, actor, user_id,
                                                services.clock.now(), reassign_to, REASSIGNERS)
        if handover is not None:  # in short transactions, once the deactivation is kept
            result = handed_over(result, await handover.move(services))
    typer.echo(json_dumps(result))
