"""``loom import SLUG ENTITY FILE``, run as a user runs it (a separate process), on both
databases."""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import loom
from openpyxl import Workbook
from sales_data import DOC, csv_text


def test_import_from_the_command_line(empty_database_url: str, tmp_path: Path) -> None:
    url = empty_database_url
    assert loom(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    (tmp_path / "sales.json").write_text(json.dumps(DOC, ensure_ascii=False), encoding="utf-8")
    created = loom(url, "app", "create", "sales", "sales.json", cwd=tmp_path)
    assert created.returncode == 0, created.stderr

    (tmp_path / "customers.csv").write_text(csv_text([
        ["名称", "编码", "等级"], ["华为", "HW", "重要客户"], ["", "XX", ""], ["腾讯", "TX", ""]]),
        encoding="utf-8")
    dry = loom(url, "import", "sales", "customer", "customers.csv", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 1, dry.stderr
    assert "would import 3 rows: 2 created, 0 updated, 1 refused" in dry.stdout
    assert "row 3: 名称: Name is required" in dry.stderr

    done = loom(url, "import", "sales", "customer", "customers.csv", cwd=tmp_path)
    assert done.returncode == 1
    assert "imported 3 rows: 2 created, 0 updated, 1 refused" in done.stdout

    workbook = Workbook()
    workbook.active.append(["title", "customer.code", "amount"])
    workbook.active.append(["框架协议", "HW", 250000])
    workbook.save(tmp_path / "contracts.xlsx")
    contracts = loom(url, "import", "sales", "contract", "contracts.xlsx", cwd=tmp_path)
    assert contracts.returncode == 0, contracts.stderr
    assert "1 created" in contracts.stdout

    (tmp_path / "update.csv").write_text("code,name\nHW,华为技术\nNEW,New one\n",
                                         encoding="utf-8")
    upsert = loom(url, "import", "sales", "customer", "update.csv", "--key", "code",
                  cwd=tmp_path)
    assert upsert.returncode == 0, upsert.stderr
    assert "1 created, 1 updated, 0 refused" in upsert.stdout

    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    wrong = loom(url, "import", "sales", "customer", "notes.txt", cwd=tmp_path)
    assert wrong.returncode == 1
    assert "give a .csv or .xlsx file" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    missing = loom(url, "import", "sales", "nope", "update.csv", cwd=tmp_path)
    assert missing.returncode == 1
    assert "has no entity 'nope'" in missing.stderr
