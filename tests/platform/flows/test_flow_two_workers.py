"""Two workers firing the same due flow timers at the same moment, on both databases (what
matters most on PostgreSQL, where many workers may run at once and claim work with
``FOR UPDATE SKIP LOCKED``; SQLite serialises the writers).

Sixty contracts are put in approval, each instance with two timers on its manager task, a
reminder after an hour and an escalation to the director after two. Two workers act as of
three hours later at the same time — two ``Worker``s over two separate Services and
engines under ``asyncio.gather``, and two ``loom worker --once --as-of`` processes. Then
every timer fired exactly once: one reminder and one escalation per instance, none twice,
none missing, each timer written once in its instance's history, no lease left behind;
the two reports' ``done["flows"]`` add up to the number of timers.

With the second timer an auto-approval, a task's two timers may be leased by different
workers; the later-due auto-approval must not approve the task (which cancels what is still
pending) before the earlier-due reminder was sent: a timer fires the due timers of its node
that come before it first, whoever leased them, under the instance's lock.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import pytest
from flow_crowd import (
    STEPS,
    assert_each_fired_once,
    moment,
    outcome,
    start_crowd,
    worker_command,
    worker_env,
)

from loom.platform.clock import FixedClock
from loom.platform.services import Services, build_services
from loom.platform.settings import Settings
from loom.platform.storage.database import Database, create_engine
from loom.platform.worker import Worker

CONTRACTS = 60
TIMERS = 2 * CONTRACTS
# two workers acting as of a moment at once; what each reports for the flow timers
Workers = Callable[[Services, Services, str, datetime], Awaitable[list[int]]]


@pytest.fixture
async def other(database_url: str, clock: FixedClock) -> AsyncIterator[Services]:
    """Services of a second worker: its own engine and connections to the same database."""
    built = build_services(Settings(database_url=database_url), clock,
                           Database(create_engine(database_url, pool_size=4)))
    yield built
    await built.database.dispose()


async def in_process(services: Services, other: Services, database_url: str,
                     at: datetime) -> list[int]:
    reports = await asyncio.gather(Worker(services).run_once(at), Worker(other).run_once(at))
    return [report.done["flows"] for report in reports]


async def processes(services: Services, other: Services, database_url: str,
                    at: datetime) -> list[int]:
    async def run() -> int:
        process = await asyncio.create_subprocess_exec(
            *worker_command("--once", "--as-of", at.isoformat()),
            env=worker_env(database_url), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, errors = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode == 0, errors.decode()
        assert b"Traceback" not in errors, errors.decode()
        return int(json.loads(out)["done"]["flows"])

    return list(await asyncio.gather(run(), run()))


@pytest.mark.parametrize("workers", [in_process, processes])
async def test_two_workers_fire_each_timer_once(services: Services, other: Services,
                                                database_url: str, workers: Workers) -> None:
    office, contracts = await start_crowd(services, CONTRACTS, "escalate")
    done = await workers(services, other, database_url, moment(services))
    assert sum(done) == TIMERS, done  # how they shared it is theirs: one may take it all
    result = await outcome(office, contracts)
    assert result.timers == {c: {0: "fired", 1: "fired"} for c in contracts}
    assert result.leased == {}
    assert result.reminders == Counter({c: 1 for c in contracts})
    assert result.escalations == Counter({c: 1 for c in contracts})
    assert result.histories == {c: [*STEPS[:3], ("timer", "manager")] for c in contracts}
    assert result.instances == {c: ("running", None) for c in contracts}
    # and nothing is left to do, for either
    assert await in_process(services, other, database_url, moment(services)) == [0, 0]


async def test_two_workers_with_auto_approvals_fire_every_timer(
        services: Services, other: Services, database_url: str) -> None:
    office, contracts = await start_crowd(services, CONTRACTS, "auto_approve")
    done = await in_process(services, other, database_url, moment(services))
    result = await outcome(office, contracts)
    # nothing fired twice, whatever else happened
    assert result.count("pending") == 0
    assert max(result.reminders.values()) == 1
    assert result.instances == {c: ("completed", "approved") for c in contracts}
    assert all(h.count(("approve", "manager")) == 1 and h.count(("action", "mark")) == 1
               for h in result.histories.values())
    # no reminder lost to an auto-approval fired first by the other worker
    assert result.having("cancelled") == set(), (
        f"(contract, timer) cancelled instead of fired: {sorted(result.having('cancelled'))}"
        f"; the workers' reports: {done}")
    assert sum(done) == TIMERS, done
    assert_each_fired_once(result, contracts)
