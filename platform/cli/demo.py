"""``loom demo load``: fill an app with its template's demo data (also reached through
``loom app create … --demo-data``), showing progress and how to sign in as the demo people."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from loom.metamodel.errors import LoomError
from loom.metamodel.i18n import localize
from loom.platform.cli.common import cli, command, locale, services_session
from loom.platform.demo import DemoResult, load_demo
from loom.platform.demo.recipes import read_recipe_file
from loom.platform.operations import Progress
from loom.platform.security.users import DEFAULT_WORKSPACE

demo_cli = typer.Typer(help="Demo data: realistic, reproducible records for an app.",
                       no_args_is_help=True)
cli.add_typer(demo_cli, name="demo")

SEED = typer.Option(1, help="The same seed (and --as-of) gives the same data")
SIZE = typer.Option(None, help="small | medium | large (default: the recipe's)")
AS_OF = typer.Option(None, help="The simulated today, ISO date or datetime (default: now)")


def parse_as_of(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise LoomError(f"--as-of must be an ISO date or datetime, not {text!r}") from None
    if len(text) <= 10:  # a date: the end of a working day
        moment = moment.replace(hour=10)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class TerminalProgress(Progress):
    """A one-line progress report on a terminal; silence when the output is a file."""

    def __init__(self) -> None:
        super().__init__()
        self.shown = -1

    def show(self) -> None:
        if not self.total or self.step is None:
            return
        percent = self.done * 100 // self.total
        if not sys.stderr.isatty() or percent == self.shown:
            return
        self.shown = percent
        label = localize(self.step.label, locale())
        typer.echo(f"\r  {percent:3d}%  {label:<20} {self.done}/{self.total}", err=True,
                   nl=False)
        if self.done >= self.total:
            typer.echo("", err=True)


def print_result(result: DemoResult) -> None:
    counts = ", ".join(f"{entity} {n}" for entity, n in result.counts.items())
    typer.echo(f"{result.slug}: demo data (seed {result.seed}, size {result.size}, as of "
               f"{result.as_of.date()}) in {result.seconds:.1f}s — {counts}")
    if result.users:
        typer.echo(f"Sign in as any of these demo people with the password "
                   f"{result.password!r} (demo only — change or deactivate them before "
                   "real use):")
        for user in result.users:
            typer.echo(f"  {user.email:<34} {user.name}\t{user.title or ''}\t"
                       f"{', '.join(user.roles)}")


@demo_cli.command("load")
@command
async def demo_load(slug: str, seed: int = SEED, size: str = SIZE, as_of: str = AS_OF,
                    force: bool = typer.Option(False, help="Add to an app that already has "
                                               "records"),
                    recipe: Path = typer.Option(None, help="A recipe file instead of the "
                                                "template's"),
                    workspace: str = typer.Option(DEFAULT_WORKSPACE, help="Workspace")) -> None:
    """Fill an existing app with demo data from its template's recipe."""
    raw = read_recipe_file(recipe) if recipe is not None else None
    async with services_session(workspace) as (services, actor):
        result = await load_demo(services, actor, slug, seed=seed, size=size,
                                 as_of=parse_as_of(as_of), force=force, recipe_raw=raw,
                                 progress=TerminalProgress())
    print_result(result)
