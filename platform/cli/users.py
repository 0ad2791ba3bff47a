"""``loom user …``."""

from __future__ import annotations

import typer

from loom.platform.cli.common import command, ensure_ready, open_database, user_cli
from loom.platform.clock import Clock
from loom.platform.security.users import DEFAULT_WORKSPACE, NewUser, create_user, ensure_workspace
from loom.platform.settings import Settings


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
