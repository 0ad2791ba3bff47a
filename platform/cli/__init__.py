"""The ``loom`` command line: serve, worker, database upgrades, apps, users, record
imports."""

from __future__ import annotations

from loom.platform.cli import (  # noqa: F401  (they register commands)
    apps,
    backups,
    data,
    demo,
    jobs,
    openapi,
    serving,
    users,
)
from loom.platform.cli.common import cli


def main() -> None:
    cli(prog_name="loom")
