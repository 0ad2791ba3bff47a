"""A worker killed with SIGKILL in the middle of firing flow timers, on both databases: a
real ``loom worker`` process, not a simulation of one.

Sixty contracts are put in approval through the services, each instance with two flow
timers on its manager task (a reminder after an hour, an auto-approval after two that runs
the approval, an action node saving the contract and the end). ``loom worker --as-of T``,
T three hours later, is started as a subprocess — ``--as-of`` implies ``--once``: one
round over the 120 due timers, several seconds of work, which is the window we kill it
in. The test polls the timers table and sends SIGKILL once a quarter of the timers are
fired (and checks it really was mid-way: some fired, some still pending, part of a claimed
batch still leased). Then:

- right after the kill, every timer's effects are there exactly when it is marked fired
  (each timer is one transaction; the one the kill interrupted left nothing);
- a worker run to completion afterwards fires every remaining timer once: one reminder per
  instance, every instance approved and completed once, each step once in its history.

Two runs to completion are tested: one at the same moment T (what a re-run of the same
``--as-of`` command does), one just after T + the lease (what a worker on the real clock
does once the killed worker's lease ran out).

At the same moment T the re-run cannot take the timers the killed worker still leases; but
when it fires a task's later auto-approval it first fires that node's earlier reminder,
lease or not, so no reminder is lost to the approval.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from datetime import datetime, timedelta

from flow_crowd import (
    Outcome,
    assert_all_or_nothing,
    assert_each_fired_once,
    moment,
    outcome,
    start_crowd,
    timer_statuses,
    worker_command,
    worker_env,
)
from flow_office import Office

from loom.platform.services import Services
from loom.platform.tasks.store import LEASE

CONTRACTS = 60
TIMERS = 2 * CONTRACTS


async def kill_midway(services: Services, database_url: str, at: datetime) -> None:
    """Run ``loom worker --as-of at`` and SIGKILL it once a quarter of the timers fired."""
    process = await asyncio.create_subprocess_exec(
        *worker_command("--as-of", at.isoformat()), env=worker_env(database_url),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while (await timer_statuses(services))["fired"] < TIMERS // 4:
            assert process.returncode is None, "the worker ended before it was killed"
            assert time.monotonic() < deadline, "the worker fired too few timers in time"
            await asyncio.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        if process.returncode is None:
            process.kill()
        _, errors = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == -signal.SIGKILL, errors.decode()
    assert b"Traceback" not in errors, errors.decode()


async def crashed(office: Office, contracts: list[int], database_url: str,
                  at: datetime) -> Outcome:
    await kill_midway(office.services, database_url, at)
    result = await outcome(office, contracts)
    # killed in the middle: some timers fired, some not, a claimed batch still leased
    assert TIMERS // 4 <= result.count("fired") < TIMERS // 2
    assert result.count("pending") == TIMERS - result.count("fired")
    assert result.leased and set(result.leased.values()) == {"pending"}
    assert_all_or_nothing(result, contracts)
    return result


def run_to_completion(database_url: str, at: datetime) -> int:
    """``loom worker --once --as-of at``; how many flow timers it finished."""
    done = subprocess.run(worker_command("--once", "--as-of", at.isoformat()),
                          env=worker_env(database_url), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return int(json.loads(done.stdout)["done"]["flows"])


async def test_a_rerun_at_the_same_moment_fires_the_rest_once(
        services: Services, database_url: str) -> None:
    office, contracts = await start_crowd(services, CONTRACTS)
    at = moment(services)
    killed = await crashed(office, contracts, database_url, at)
    run_to_completion(database_url, at)
    result = await outcome(office, contracts)
    # no reminder left cancelled behind the killed worker's lease
    assert result.having("cancelled") == set(), (
        f"(contract, timer) cancelled instead of fired: {sorted(result.having('cancelled'))}"
        f"; leased by the killed worker: {sorted(killed.leased)}")
    assert_each_fired_once(result, contracts)


async def test_once_the_lease_runs_out_a_worker_fires_the_rest_once(
        services: Services, database_url: str) -> None:
    office, contracts = await start_crowd(services, CONTRACTS)
    at = moment(services)
    killed = await crashed(office, contracts, database_url, at)
    later = at + LEASE + timedelta(seconds=1)  # the killed worker's lease ran out
    assert run_to_completion(database_url, later) == TIMERS - killed.count("fired")
    result = await outcome(office, contracts)
    assert_each_fired_once(result, contracts)
    # and nothing is left to do
    assert run_to_completion(database_url, later + LEASE) == 0
    assert await outcome(office, contracts) == result
