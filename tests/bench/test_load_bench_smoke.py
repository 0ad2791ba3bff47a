"""The load benchmark (and soak) stays runnable: a seconds-long run with a worker and two
servers then one (on SQLite, its one server), on every database under test, with no
unexpected answer — and its verdict fails a run that had one, or whose memory or open
connections grew (a smoke run: the figures themselves are the benchmark's, in
docs/PERFORMANCE.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from fixture_kit import DATABASES, POSTGRES_URL

from bench.load_bench import Outcome, Sample, Tally, judge

ROOT = Path(__file__).resolve().parents[2]
KINDS = ["create", "get", "list", "update", "inbox", "approve"]


@pytest.mark.parametrize("kind", DATABASES)
def test_the_load_benchmark_runs_servers_and_worker_without_errors(kind: str) -> None:
    env = {**os.environ, "LOOM_BENCH_LOAD_SECONDS": "2", "LOOM_BENCH_LOAD_WARMUP": "1",
           "LOOM_BENCH_LOAD_CLIENTS": "3",
           "LOOM_BENCH_LOAD_SERVERS": "2,1" if kind == "postgresql" else "1",
           "LOOM_BENCH_DATABASE_URL": POSTGRES_URL if kind == "postgresql" else ""}
    done = subprocess.run([sys.executable, "-m", "bench", "load"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    servers = ["2", "1"] if kind == "postgresql" else ["1"]
    assert done.stdout.count("verdict: ok") == len(servers), done.stdout
    assert re.findall(r"(\d) × loom serve \+ loom worker", done.stdout) == servers
    for total in re.findall(r"^all\s+(\d+)\s", done.stdout, re.M):
        assert int(total) > 0, done.stdout
    assert re.findall(r"^errors: (\d+)$", done.stdout, re.M) == ["0"] * len(servers)
    if kind == "postgresql":
        assert "2 servers ÷ 1: throughput" in done.stdout
        assert done.stdout.count("open connections") == 2, done.stdout


def outcome(rss_end: int = 100, connections: tuple[int, int] = (5, 5),
            errors: tuple[str, ...] = (), webhooks: Counter[str] | None = None) -> Outcome:
    """A 60-second run sampled every 5 s after its warm-up: memory from 100 to ``rss_end``,
    the first half's connections then the second's."""
    samples = [Sample(at=float(t), rss={"serve 1": 100 + (rss_end - 100) * t // 60},
                      connections=connections[t >= 30]) for t in range(0, 61, 5)]
    tally = Tally(measure_from=0.0, errors=list(errors))
    return Outcome(1, tally, samples, 60.0, {"deliveries sent": 3},
                   webhooks or Counter({"a": 1}))


def test_the_verdict_fails_errors_growth_and_repeated_webhooks() -> None:
    assert judge(outcome(rss_end=109)) == []
    assert judge(outcome(rss_end=110)) == ["serve 1: RSS grew 10% after warm-up"]
    assert judge(outcome(connections=(6, 7))) == ["open connections grew from 6 to 7"]
    assert judge(outcome(connections=(7, 6))) == []
    assert judge(outcome(errors=("get GET /x → 500: boom",))) == ["1 unexpected answers"]
    assert judge(outcome(webhooks=Counter({"a": 2}))) == [
        "1 webhooks delivered more than once"]
