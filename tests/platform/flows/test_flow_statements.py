"""How many SQL statements each command of a flow runs — the benchmark's approval flow
(bench/flows_bench.py), through the code the API runs. Statement counts are deterministic,
unlike timings, so they hold the flow runtime to the reads and writes it needs: a second
read of a row already in hand, or a write that could be merged, fails here."""

from __future__ import annotations

import pytest

from bench.flows_bench import Office, amount_of, counting, loom_round
from loom.platform.services import Services

# at most, per command (PostgreSQL; SQLite adds its BEGIN IMMEDIATE)
OVER_THRESHOLD = {
    "start": 10,     # the record locked, "already running?", the instance, the manager,
                     # an activation, a task (and its assignee's language), history, state
    "manager": 12,   # the decision; the record for the amount; a role's members, an
                     # activation and a task for the director
    "director": 15,  # the decision; two tasks (legal, finance)
    "legal": 8,      # the decision; the join waits
    "finance": 14,   # the decision; the join; the action node's record write (the write
                     # pipeline: the record, its update, the audit row); the end
}
UNDER_THRESHOLD = {**{k: v for k, v in OVER_THRESHOLD.items() if k != "director"},
                   "manager": 16}  # the record for the amount; two tasks


@pytest.mark.parametrize(("index", "limits"), [(1, OVER_THRESHOLD), (0, UNDER_THRESHOLD)])
async def test_each_command_of_an_approval_stays_within_its_statements(
        services: Services, index: int, limits: dict[str, int]) -> None:
    office = Office(services)
    await office.setup()
    amounts = [amount_of(index)]
    records = await office.contracts(amounts * 2)
    await loom_round(office, records[:1], amounts)  # the app's version compiled, cached
    async with counting(services) as statements:
        await loom_round(office, records[1:], amounts, statements)
    begin = 1 if services.database.engine.dialect.name == "sqlite" else 0
    counts = {node: statements.per_command(node) - begin for node in statements.commands}
    assert set(counts) == set(limits), counts
    over = {node: f"{count:.0f} ({dict(statements.counts[node])})"
            for node, count in counts.items() if count > limits[node]}
    assert not over, over
    # the target of 12: every approval that opens at most one task
    assert counts["manager" if index else "legal"] <= 12 and counts["legal"] <= 12
