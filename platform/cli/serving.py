"""``loom serve``, ``loom worker`` and ``loom db upgrade``."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime

import typer

from loom.platform.bootstrap import Bootstrapped, bootstrap
from loom.platform.cli.common import cli, command, db_cli, ensure_ready, open_database
from loom.platform.clock import Clock, FixedClock
from loom.platform.settings import Settings
from loom.platform.storage.migrate import head_revision, upgrade


@cli.command()
def serve(host: str = typer.Option(None, help="Default: LOOM_HOST or 127.0.0.1"),
          port: int = typer.Option(None, help="Default: LOOM_PORT or 8000")) -> None:
    """Run the web server (API and UI)."""
    import uvicorn

    from loom.platform.api.app import create_app
    from loom.platform.logging_setup import configure_logging

    settings = Settings()
    _prepare_to_serve(settings)
    configure_logging(settings.log_json)
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                log_config=None, timeout_graceful_shutdown=settings.shutdown_seconds)


def _announce_admin(result: Bootstrapped) -> None:
    if result.generated_password:
        typer.echo(f"First administrator: {result.admin_email} / password: "
                   f"{result.generated_password}  (shown once; change it after signing in)")


@command
async def _prepare_to_serve(settings: Settings) -> None:
    database = open_database(settings)
    try:
        await ensure_ready(database)
        result = await bootstrap(database, settings, Clock())
    finally:
        await database.dispose()
    _announce_admin(result)


@db_cli.command("upgrade")
@command
async def db_upgrade() -> None:
    """Create or update the platform tables (run after every upgrade of Loom)."""
    settings = Settings()
    database = open_database(settings)
    try:
        await upgrade(database)
        result = await bootstrap(database, settings, Clock())
    finally:
        await database.dispose()
    typer.echo(f"database is at revision {head_revision()}")
    _announce_admin(result)


@cli.command()
def worker(once: bool = typer.Option(False, help="Do what is due, then exit"),
           as_of: str = typer.Option(None, help="Act as if it were this moment (ISO 8601; "
                                                "without an offset it is UTC); implies --once"),
           poll: float = typer.Option(2.0, help="Seconds between rounds when idle")) -> None:
    """Deliver email/webhooks and run whatever else is due (timers, scheduled rules)."""
    from loom.platform.logging_setup import configure_logging

    settings = Settings()
    configure_logging(settings.log_json)
    moment = parse_moment(as_of) if as_of else None
    _run_worker(settings, moment, once or moment is not None, poll)


def parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: --as-of must be an ISO 8601 date or datetime, not {text!r}",
                   err=True)
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@command
async def _run_worker(settings: Settings, moment: datetime | None, once: bool,
                      poll: float) -> None:
    from loom.platform.services import build_services
    from loom.platform.worker import Worker

    clock = FixedClock(moment) if moment else Clock()
    services = build_services(settings, clock)
    try:
        await ensure_ready(services.database)
        runner = Worker(services)
        if once:
            report = await runner.run_once(moment)
            typer.echo(json.dumps({"as_of": (moment or clock.now()).isoformat(),
                                   "done": report.done}))
            return
        if settings.worker_metrics_port:  # this process's counters, for Prometheus
            from prometheus_client import start_http_server

            from loom.platform.metrics import REGISTRY

            start_http_server(settings.worker_metrics_port, addr="127.0.0.1",
                              registry=REGISTRY)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_name in ("SIGINT", "SIGTERM"):
            loop.add_signal_handler(getattr(signal, signal_name), stop.set)
        await runner.run(stop, poll)
    finally:
        await services.database.dispose()
