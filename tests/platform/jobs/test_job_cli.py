"""``loom job run SLUG JOB [--as-of DATE]`` as a user runs it (a separate process), on both
databases: it prints the run as JSON; mistakes are messages, never tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import loom
from shop_app import shop_app


def test_job_run_from_the_command_line(empty_database_url: str, tmp_path: Path) -> None:
    url = empty_database_url
    assert loom(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    (tmp_path / "shop.json").write_text(json.dumps(shop_app()), encoding="utf-8")
    created = loom(url, "app", "create", "shop", "shop.json", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    (tmp_path / "customers.csv").write_text("code\nC1\nC2\nC3\n", encoding="utf-8")
    assert loom(url, "import", "shop", "customer", "customers.csv",
                cwd=tmp_path).returncode == 0
    (tmp_path / "orders.csv").write_text(
        "customer.code,order_date,amount\nC1,1998-06-30,100.00\nC1,1998-06-01,50.00\n"
        "C2,1998-01-15,20.00\nC3,1998-08-01,70.00\n", encoding="utf-8")
    orders = loom(url, "import", "shop", "order", "orders.csv", cwd=tmp_path)
    assert orders.returncode == 0, orders.stderr

    done = loom(url, "job", "run", "shop", "rfm", "--as-of", "1998-07-01", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["as_of"] == "1998-07-01" and result["status"] == "done"
    assert result["counts"]["scored"] == 2  # C3 ordered only after the as-of date
    assert result["counts"]["changed"] == 2
    assert result["result"]["tiers"] == {"general_retain": 1, "important_value": 1}
    assert result["result"]["means"]["frequency"] == 1.5

    bad = loom(url, "job", "run", "shop", "rfm", "--as-of", "July", cwd=tmp_path)
    assert bad.returncode == 1 and "--as-of must be a date" in bad.stderr
    missing = loom(url, "job", "run", "shop", "nope", cwd=tmp_path)
    assert missing.returncode == 1 and "has no job 'nope'" in missing.stderr
    for output in (bad, missing):
        assert "Traceback" not in output.stderr
