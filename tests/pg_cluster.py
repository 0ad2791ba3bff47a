"""A private PostgreSQL cluster on loopback, for the tests that stop, restart or replicate
the server — never the shared one the rest of the suite uses.

``private_primary`` makes a cluster (``initdb``) on a free port and always removes it,
however the test ends; ``Cluster.standby`` adds a streaming replica copied from it with
``pg_basebackup -R``. Every step is bounded in time. The binaries come from
``LOOM_TEST_PG_BIN`` (default: Debian's PostgreSQL 15); as root they run as the
``postgres`` user, since PostgreSQL refuses to run as root. A cluster that cannot start
fails the test: nothing here skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from fixture_kit import ADMIN_EMAIL, ADMIN_PASSWORD, START, free_port

from loom.platform.bootstrap import bootstrap
from loom.platform.clock import FixedClock
from loom.platform.settings import Settings
from loom.platform.storage.database import Database, create_engine
from loom.platform.storage.migrate import upgrade

BIN = Path(os.environ.get("LOOM_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
STEP_SECONDS = 60  # the longest any one step (initdb, start, base backup, stop) may take
OWNER = "postgres"
# a throwaway cluster: durability is not what these tests are about, speed is
SETTINGS = {"listen_addresses": "'127.0.0.1'", "fsync": "off", "full_page_writes": "off",
            "wal_level": "replica", "max_wal_senders": "4", "hot_standby": "on",
            "max_connections": "60", "shared_buffers": "32MB", "log_min_messages": "warning"}


def _run(*args: str | Path) -> str:
    """Run a PostgreSQL program (as ``postgres`` when we are root); its output, or an
    AssertionError that shows it."""
    command = [str(a) for a in args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", OWNER, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=STEP_SECONDS,
                          cwd="/")
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({done.returncode}):\n"
                             f"{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Cluster:
    """One PostgreSQL server of ours: its data directory, port and log."""

    data: Path
    port: int

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.data.name}.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        try:
            _run(BIN / "pg_ctl", "start", "-w", "-t", str(STEP_SECONDS), "-D", self.data,
                 "-l", self.log, "-o", f"-p {self.port} -k {self.data.parent}")
        except AssertionError as exc:  # what the server itself said is in its log
            raise AssertionError(f"{exc}\n{self.output()[-3000:]}") from None

    def stop(self, mode: str = "fast") -> None:
        _run(BIN / "pg_ctl", "stop", "-w", "-t", str(STEP_SECONDS), "-D", self.data,
             "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart``: every connection is cut, the server is away for a moment."""
        _run(BIN / "pg_ctl", "restart", "-w", "-t", str(STEP_SECONDS), "-D", self.data,
             "-m", mode, "-l", self.log, "-o", f"-p {self.port} -k {self.data.parent}")

    def standby(self) -> Cluster:
        """A streaming replica of this cluster, started: a base backup taken with
        ``pg_basebackup -R`` (which writes the connection to follow) on a port of its own."""
        replica = Cluster(self.data.parent / f"{self.data.name}-standby", free_port())
        _run(BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-D", replica.data, "-R", "-X", "stream", "--checkpoint=fast")
        replica.start()
        return replica

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def private_primary() -> Iterator[Cluster]:
    """A new, running PostgreSQL cluster on 127.0.0.1 (trust authentication, replication
    allowed); it and any standby made from it are stopped and removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="loom-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, OWNER, OWNER)
    primary = Cluster(root / "primary", free_port())
    try:
        _run(BIN / "initdb", "-D", primary.data, "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--no-sync")
        with (primary.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in SETTINGS.items())
        with (primary.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        primary.start()
        yield primary
    finally:
        for data in sorted(root.glob("*/postmaster.pid")):
            with suppress(AssertionError, subprocess.TimeoutExpired):
                Cluster(data.parent, 0).stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


async def loom_database(cluster: Cluster, name: str = "loom") -> str:
    """A new database on ``cluster`` with Loom's tables and the first administrator; its
    URL."""
    admin = await asyncpg.connect(host="127.0.0.1", port=cluster.port, user="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    database = Database(create_engine(cluster.url(name), pool_size=1))
    try:
        await upgrade(database)
        await bootstrap(database, Settings(admin_email=ADMIN_EMAIL,
                                           admin_password=ADMIN_PASSWORD), FixedClock(START))
    finally:
        await database.dispose()
    return cluster.url(name)
