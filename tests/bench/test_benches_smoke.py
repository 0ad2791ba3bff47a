"""The benchmarks stay runnable: each on a few thousand rows, on every database under test
(the expressions benchmark needs none), in seconds (smoke runs — their figures are the
benchmarks', in docs/PERFORMANCE.md; the API, bulk and load benchmarks have files of their
own). Each benchmark checks its own results and exits non-zero when they
are wrong: the RFM job's scores against pandas', a list page against the same page in
plain SQL, a table that a new field rewrote."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_kit import DATABASES, POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]


def bench(name: str, kind: str | None, **settings: str) -> str:
    env = {**os.environ, **settings,
           "LOOM_BENCH_DATABASE_URL": POSTGRES_URL if kind == "postgresql" else ""}
    done = subprocess.run([sys.executable, "-m", "bench", name], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("kind", DATABASES)
def test_the_rfm_job_matches_pandas_in_the_benchmark(kind: str) -> None:
    out = bench("rfm", kind, LOOM_BENCH_RFM_CUSTOMERS="1000")
    assert len(re.findall(r"pandas, read and scored as of", out)) == 3, out
    assert re.search(r"same date \(nothing changes\) .*\(changed 0, set-based 0\)", out), out
    assert "the job's scores equal pandas' for every customer" in out, out


@pytest.mark.parametrize("kind", DATABASES)
def test_the_lists_benchmark_compares_the_same_pages(kind: str) -> None:
    out = bench("lists", kind, LOOM_BENCH_LISTS_ROWS="30000", LOOM_BENCH_LISTS_RUNS="3")
    assert len(re.findall(r"after row +[\d,]+: Loom", out)) == 2, out
    assert "EXPLAIN, Loom's statement" in out and "EXPLAIN, direct SQL" in out, out
    # the page is read from the index the view implies, on both sides
    assert out.count("ixv_") >= 2, out


@pytest.mark.parametrize("kind", DATABASES)
def test_the_schema_benchmark_adds_fields_without_rewriting(kind: str) -> None:
    out = bench("schema", kind, LOOM_BENCH_SCHEMA_ROWS="5000", LOOM_BENCH_SCHEMA_SHORT="500",
                LOOM_BENCH_SCHEMA_ROUNDS="1")
    assert len(re.findall(r"^  (text|integer with a default|select) +[\d.]+ ms", out,
                          re.M)) == 3, out


SMALL = {
    "rules": {"LOOM_BENCH_CREATES": "20", "LOOM_BENCH_TABLE_ROWS": "2000"},
    "imports": {"LOOM_BENCH_IMPORT_ROWS": "500"},
    "clv": {"LOOM_BENCH_CLV_CUSTOMERS": "2000"},
    "demo": {"LOOM_BENCH_DEMO_SIZES": "small"},
    "web": {"LOOM_BENCH_WEB_ROWS": "2000", "LOOM_BENCH_WEB_RUNS": "1"},
}


def test_the_expressions_benchmark_runs() -> None:
    printed = bench("expressions", None, LOOM_BENCH_EXPRESSION_RECORDS="2000")
    matches = re.findall(r"\((\d+) match\)", printed)  # every engine finds the same records
    assert len(matches) >= 4 and len(set(matches)) == 1, printed


@pytest.mark.parametrize("kind", DATABASES)
@pytest.mark.parametrize("name", sorted(SMALL))
def test_a_database_benchmark_runs_on_a_few_rows(name: str, kind: str) -> None:
    printed = bench(name, kind, **SMALL[name])
    # a ratio against its baseline
    assert re.search(r"\d\s?[x×]|ratio [^:]*: [\d.]+", printed), printed


@pytest.mark.parametrize("kind", DATABASES)
def test_the_flows_benchmark_runs_against_spiffworkflow(kind: str) -> None:
    printed = bench("flows", kind, LOOM_BENCH_FLOW_INSTANCES="5",
                        LOOM_BENCH_FLOW_ROUNDS="1", LOOM_BENCH_FLOW_DATABASES=kind)
    assert re.search(r"Loom's steps/s against SpiffWorkflow's: [\d.]+x", printed), printed
