"""The records API benchmark stays runnable: a second-long run of each server at 1 and 2
clients, on every database under test, with no request failing (a smoke run — the figures
themselves are the benchmark's, in docs/PERFORMANCE.md)."""

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
def test_the_api_benchmark_runs_both_servers_without_errors(kind: str) -> None:
    env = {**os.environ, "LOOM_BENCH_API_SECONDS": "1", "LOOM_BENCH_API_CLIENTS": "1,2",
           "LOOM_BENCH_API_WARMUP": "0.5", "LOOM_BENCH_API_ROUNDS": "2",
           "LOOM_BENCH_DATABASE_URL": POSTGRES_URL if kind == "postgresql" else ""}
    done = subprocess.run([sys.executable, "-m", "bench", "api"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = re.findall(r"^\s+(\d+) (Loom|hand-written)\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+"
                      r"\s+(\d+)$",
                      done.stdout, re.M)
    assert sorted((clients, server) for clients, server, _, _ in rows) == [
        ("1", "Loom"), ("1", "hand-written"), ("2", "Loom"), ("2", "hand-written")], done.stdout
    assert all(int(rate) > 0 and errors == "0" for _, _, rate, errors in rows), done.stdout
    assert done.stdout.count("Loom ÷ hand-written") == 2
