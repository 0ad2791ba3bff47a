"""``loom app create … --demo-data`` and ``loom demo load``, run as a user runs them (a
separate process), on both databases."""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import loom
from demo_kit import small_recipe


def test_demo_data_from_the_command_line(empty_database_url: str, tmp_path: Path) -> None:
    url = empty_database_url
    assert loom(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    created = loom(url, "app", "create", "crm", "--template", "crm", "--demo-data",
                   "--seed", "4", "--as-of", "2026-11-30", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "crm: demo data (seed 4, size small, as of 2026-11-30)" in created.stdout
    assert "customer 40" in created.stdout
    assert "password 'demo-password-2026' (demo only" in created.stdout
    assert created.stdout.count("@demo.example") == 17

    again = loom(url, "demo", "load", "crm", cwd=tmp_path)
    assert again.returncode == 1
    assert "already has 72 Sales target record(s)" in again.stderr

    (tmp_path / "bad.json").write_text(json.dumps({"steps": [
        {"name": "orders", "entity": "order", "count": 2,
         "fields": {"amount": {"gen": "mobile"}, "customer": {"gen": "parent"}}}]}),
        encoding="utf-8")
    bad = loom(url, "demo", "load", "crm", "--recipe", "bad.json", "--force", cwd=tmp_path)
    assert bad.returncode == 1
    assert "error: The demo data recipe has problems" in bad.stderr
    assert "steps[0].fields.amount.gen: The generator 'mobile' does not fit a field of " \
           "type 'currency'" in bad.stderr
    assert "steps[0].fields.customer: 'parent' needs a step with 'per'" in bad.stderr
    assert "Traceback" not in bad.stderr

    assert loom(url, "app", "create", "shop", "--template", "crm", cwd=tmp_path
                ).returncode == 0
    (tmp_path / "small.json").write_text(json.dumps(small_recipe(), ensure_ascii=False),
                                         encoding="utf-8")
    small = loom(url, "demo", "load", "shop", "--recipe", "small.json", "--seed", "4",
                 "--as-of", "2026-11-30", cwd=tmp_path)
    assert small.returncode == 0, small.stderr
    assert "customer 6" in small.stdout
    assert "lead 4" in small.stdout
