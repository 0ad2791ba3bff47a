"""Shared fixtures. Storage tests run on every database in LOOM_TEST_DATABASES
(default: SQLite and PostgreSQL). A database that cannot be reached fails the tests that
need it; nothing is skipped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fixture_kit import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    DATABASES,
    START,
    copy_database,
    create_pg_database,
    drop_remaining_databases,
    migrated_template,
    release_database,
)
from sqlalchemy import select

from loom.platform.storage.database import Database, create_engine

# ``make test`` hands whole files to its two processes in the order collected (see the
# Makefile). Files that start servers, browsers and commands or load demo data take
# minutes: handed out first, they run alongside the many quick files instead of leaving
# one process to finish a long file alone at the end.
LONG_FILES_FIRST = (
    "tests/platform/operations/", "tests/browser/", "tests/acceptance/",
    "tests/platform/faults/", "tests/platform/backup/", "tests/platform/demo/",
    "tests/platform/test_cli.py", "tests/test_newcomer.py", "tests/bench/",
    "tests/platform/storage/test_read_replica.py", "tests/platform/api/test_schemathesis.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((place for place, prefix in enumerate(LONG_FILES_FIRST)
                     if item.nodeid.startswith(prefix)), len(LONG_FILES_FIRST))

    items.sort(key=rank)  # stable: the order within a file stays


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> object:
    yield
    drop_remaining_databases()


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> object:
    """Passwords hashed by the tests' own processes cost little: argon2's production cost
    (64 MiB, 3 passes, a fifth of a second of CPU per hash or check) adds up to minutes
    over the suite. A check reads the cost from the hash it checks, so servers the tests
    start check these hashes cheaply too; their own hashes keep the production cost."""
    from argon2 import PasswordHasher

    from loom.platform.security import passwords

    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._dummy_hash.cache_clear()
    yield
    passwords._hasher = production
    passwords._dummy_hash.cache_clear()


@pytest.fixture(params=DATABASES)
async def empty_database_url(request: pytest.FixtureRequest,
                             tmp_path: object) -> AsyncIterator[str]:
    """The URL of a new, empty database of each kind under test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/loom.db"
    elif request.param == "postgresql":
        url = await create_pg_database()
        yield url
        release_database(url)
    else:
        raise ValueError(f"unknown test database {request.param!r}")


@pytest.fixture
async def empty_database(empty_database_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(empty_database_url, pool_size=4))
    yield database
    await database.dispose()


# --- migrated databases, services and an authenticated API client -------------------------


import httpx  # noqa: E402

from loom.platform.api.app import create_app  # noqa: E402
from loom.platform.clock import FixedClock  # noqa: E402
from loom.platform.security.tokens import issue_token  # noqa: E402
from loom.platform.services import Services, build_services  # noqa: E402
from loom.platform.settings import Settings  # noqa: E402
from loom.platform.storage.system_tables import users  # noqa: E402


@pytest.fixture(params=DATABASES)
def database_kind(request: pytest.FixtureRequest) -> str:
    """Each kind of database under test, in turn."""
    return str(request.param)


@pytest.fixture
async def migrated_database(database_kind: str,
                            tmp_path_factory: pytest.TempPathFactory) -> str:
    """The session's migrated database of this kind with the first admin (do not write)."""
    return await migrated_template(database_kind, tmp_path_factory)


@pytest.fixture
async def database_url(migrated_database: str, tmp_path: object) -> AsyncIterator[str]:
    """A new database of each kind under test, migrated, with the first admin."""
    url = await copy_database(migrated_database, tmp_path)
    yield url
    release_database(url)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def services(database_url: str, clock: FixedClock,
                   tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(database_url=database_url, admin_email=ADMIN_EMAIL,
                        admin_password=ADMIN_PASSWORD, data_dir=tmp_path / "loom-data")
    built = build_services(settings, clock, Database(create_engine(database_url,
                                                                   pool_size=4)))
    yield built
    await built.database.dispose()


@pytest.fixture
async def anonymous(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://loom.test") as client:
        yield client


@pytest.fixture
async def api(anonymous: httpx.AsyncClient, services: Services) -> httpx.AsyncClient:
    """A client authenticated as the first administrator, with a token issued directly: a
    password check per test (argon2 is slow on purpose) would be much of the suite's run
    time. Logging in itself is tested in tests/platform/api/test_users_and_auth.py."""
    async with services.database.write() as conn:
        admin_id = await conn.scalar(select(users.c.id).where(users.c.email == ADMIN_EMAIL))
        token = await issue_token(conn, admin_id, services.clock)
    anonymous.headers["Authorization"] = f"Bearer {token}"
    return anonymous
