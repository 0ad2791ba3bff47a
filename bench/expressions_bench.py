"""A typical rule condition over 100,000 records: Loom's compiled closure against
panzi-json-logic (a pure-Python interpreter) and datalogic-py (a Rust engine), measured in
the same run. Targets: at least 5x panzi-json-logic, within 2x of datalogic-py.

    python -m bench expressions        (LOOM_BENCH_EXPRESSION_RECORDS: how many, 100,000)
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from loom.engines.expressions import Env, compile_condition

RECORDS = int(os.environ.get("LOOM_BENCH_EXPRESSION_RECORDS", "100000"))
ROUNDS = 3
# "Open, big, in our regions, not archived": what a scheduled rule or a list filter asks.
CONDITION = {"and": [
    {">": [{"var": "amount"}, 10000]},
    {"==": [{"var": "stage"}, "open"]},
    {"in": [{"var": "region"}, ["east", "north"]]},
    {"!": {"var": "archived"}},
]}


def records(count: int, decimals: bool) -> list[dict[str, Any]]:
    rng = random.Random(7)
    made = []
    for index in range(count):
        amount = rng.randint(0, 20000)
        made.append({
            "id": index, "name": f"Lead {index}", "owner": rng.randint(1, 50),
            "amount": Decimal(amount) / 100 * 100 if decimals else amount,
            "stage": rng.choice(["open", "won", "lost"]),
            "region": rng.choice(["east", "west", "north", "south"]),
            "archived": rng.random() < 0.1,
        })
    return made


def best_of(run: Callable[[], int]) -> tuple[float, int]:
    best, matched = float("inf"), 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        matched = run()
        best = min(best, time.perf_counter() - started)
    return best, matched


def main() -> None:
    import datalogic_py
    from json_logic import jsonLogic

    data = records(RECORDS, decimals=False)
    compiled = compile_condition(CONDITION)
    env = Env()
    check = compiled.bind(env)
    rule = datalogic_py.Engine().compile(CONDITION)

    timings = {
        "loom compiled (bind)": best_of(lambda: sum(1 for r in data if check(r))),
        "loom compiled (evaluate)": best_of(
            lambda: sum(1 for r in data if compiled.evaluate(r, env))),
        "datalogic-py (Rust)": best_of(lambda: sum(1 for r in data if rule.evaluate(r))),
        "panzi-json-logic": best_of(lambda: sum(1 for r in data if jsonLogic(CONDITION, r))),
    }
    matches = {matched for _, matched in timings.values()}
    assert len(matches) == 1, f"the engines disagree: {timings}"
    loom = timings["loom compiled (bind)"][0]
    print(f"{RECORDS:,} records, condition {CONDITION}")
    for name, (seconds, matched) in timings.items():
        print(f"  {name:26} {seconds * 1000:8.1f} ms  {seconds / RECORDS * 1e9:7.0f} ns/record"
              f"  ({matched:,} match)")
    panzi = timings["panzi-json-logic"][0]
    rust = timings["datalogic-py (Rust)"][0]
    print(f"  loom vs panzi-json-logic: {panzi / loom:.1f}x faster (target >= 5x)")
    print(f"  loom vs datalogic-py:     {loom / rust:.2f}x its time (target <= 2x)")
    decimal_data = records(RECORDS, decimals=True)
    seconds, _ = best_of(lambda: sum(1 for r in decimal_data if check(r)))
    print(f"  loom on Decimal amounts:  {seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
