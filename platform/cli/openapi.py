"""``loom openapi``: the OpenAPI documents to generate clients from — the platform's (no
database needed: the web app's types are made from it at build time) or one app's record
endpoints, as the server answers them at /openapi.json and /api/apps/{app}/openapi.json."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import typer

from loom.platform.cli.apps import WORKSPACE
from loom.platform.cli.common import cli, command, session


def platform_document() -> dict[str, Any]:
    """The platform's document, as /openapi.json serves it (the routes describe it; no
    database is opened)."""
    from loom.platform.api.app import create_app
    from loom.platform.settings import Settings

    with tempfile.TemporaryDirectory() as unused:  # a database named, never opened
        settings = Settings(database_url=f"sqlite+aiosqlite:///{unused}/loom.db",
                            data_dir=Path(unused))
        return create_app(settings).openapi()


@command
async def _app_document(slug: str, workspace: str) -> dict[str, Any]:
    from loom.renderers.openapi import app_openapi

    async with session(workspace) as s, s.database.read() as conn:
        runtime = await s.apps.runtime(conn, s.actor, slug)
    return app_openapi(runtime.slug, runtime.version, runtime.doc)


@cli.command("openapi")
def openapi(app: str = typer.Option(None, help="An app's record endpoints (its published "
                                    "version); default: the platform's API"),
            output: Path = typer.Option(None, "--output", "-o",
                                        help="Write to this file (default: print)"),
            workspace: str = WORKSPACE) -> None:
    """Print an OpenAPI document, to generate a client from (README, "Clients")."""
    document = _app_document(app, workspace) if app else platform_document()
    if document is None:  # refused: the reason is already printed
        raise typer.Exit(1)
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)
