"""``loom job run SLUG JOB [--as-of DATE]``: run an app's job now and print the run (JSON),
the same result ``POST /api/apps/{app}/jobs/{job}/run`` answers."""

from __future__ import annotations

from datetime import date

import typer

from loom.metamodel.errors import BadRequest
from loom.platform.cli.common import cli, command, services_session
from loom.platform.jobs.runner import JobRunner, job_spec
from loom.platform.security.users import DEFAULT_WORKSPACE
from loom.platform.storage.database import json_dumps

job_cli = typer.Typer(help="Jobs: run an app's scheduled computations (RFM …) now.",
                      no_args_is_help=True)
cli.add_typer(job_cli, name="job")


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"--as-of must be a date such as 1998-07-01, not {text!r}") from None


@job_cli.command("run")
@command
async def run_job(slug: str, job: str,
                  as_of: str = typer.Option(None, "--as-of",
                                            help="Compute as of this date (YYYY-MM-DD; "
                                            "default: today in the job's time zone)"),
                  workspace: str = typer.Option(DEFAULT_WORKSPACE,
                                                help="The workspace of the app")) -> None:
    """Run JOB of app SLUG and print the run: counts, as_of, duration, means, thresholds."""
    moment = _as_of(as_of)
    async with services_session(workspace) as (services, actor):
        async with services.database.read() as conn:
            runtime = await services.apps.runtime(conn, actor, slug)
        job_spec(runtime, job)
        result = await JobRunner(services).run(runtime, job, as_of=moment)
    typer.echo(json_dumps(result))
