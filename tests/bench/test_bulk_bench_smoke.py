"""The bulk benchmark stays runnable: a few hundred deals each way, on every database under
test, stored alike by the bare INSERT and the pipeline (the benchmark checks that itself),
and a ratio printed (a smoke run — the figures are the benchmark's, in
docs/PERFORMANCE.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_kit import DATABASES, POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", DATABASES)
def test_the_bulk_benchmark_writes_the_same_rows_three_ways(kind: str) -> None:
    env = {**os.environ, "LOOM_BENCH_BULK_ROWS": "300",
           "LOOM_BENCH_DATABASE_URL": POSTGRES_URL if kind == "postgresql" else ""}
    done = subprocess.run([sys.executable, "-m", "bench", "bulk"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ways = re.findall(r"^\s+\((a|b|c)\) .*?([\d,]+) rows/s\s+([\d.]+)x$", done.stdout, re.M)
    assert [way for way, _, _ in ways] == ["a", "b", "c"], done.stdout
    assert all(int(rate.replace(",", "")) > 0 for _, rate, _ in ways), done.stdout
    assert re.search(r"pipeline ÷ bare INSERT: [\d.]+x", done.stdout), done.stdout
