"""The ``loom`` command line: serve, worker, database upgrades, apps, users."""

from __future__ import annotations

from loom.platform.cli import apps, serving, users  # noqa: F401  (they register commands)
from loom.platform.cli.common import cli


def main() -> None:
    cli(prog_name="loom")
