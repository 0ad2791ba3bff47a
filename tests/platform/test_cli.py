"""The ``loom`` command line, run as a user runs it (a separate process), on both databases."""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import loom

DOC = {
    "app": {"label": {"zh-CN": "演示", "en": "Demo"}},
    "entities": {
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"},
                     "fields": {"name": {"type": "text", "required": True, "unique": True}}},
        "lead": {"label": {"zh-CN": "线索", "en": "Lead"},
                 "fields": {"name": {"type": "text"},
                            "customer": {"type": "lookup", "ref": "customer"}}},
    },
}




def test_upgrade_create_export_import(empty_database_url: str, tmp_path: Path) -> None:
    url = empty_database_url
    not_ready = loom(url, "app", "create", "demo", "doc.json", cwd=tmp_path)
    assert not_ready.returncode == 1

    upgraded = loom(url, "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "revision" in upgraded.stdout

    (tmp_path / "doc.json").write_text(json.dumps(DOC, ensure_ascii=False), encoding="utf-8")
    created = loom(url, "app", "create", "demo", "doc.json", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "published version 1" in created.stdout

    exported = loom(url, "app", "export", "demo", "out", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    files = sorted(p.relative_to(tmp_path / "out").as_posix()
                   for p in (tmp_path / "out").rglob("*.json"))
    assert files == ["app.json", "entities/customer.json", "entities/lead.json"]
    lead = json.loads((tmp_path / "out/entities/lead.json").read_text(encoding="utf-8"))
    assert lead["label"]["zh-CN"] == "线索"

    imported = loom(url, "app", "import", "out", "--as", "copy", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    again = loom(url, "app", "export", "copy", "copy_out", cwd=tmp_path)
    assert again.returncode == 0
    for name in files:
        assert (tmp_path / "out" / name).read_text(encoding="utf-8") == \
            (tmp_path / "copy_out" / name).read_text(encoding="utf-8")


def test_import_over_an_app_shows_the_diff_and_publishes_when_confirmed(
        empty_database_url: str, tmp_path: Path) -> None:
    url = empty_database_url
    assert loom(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    (tmp_path / "doc.json").write_text(json.dumps(DOC, ensure_ascii=False), encoding="utf-8")
    assert loom(url, "app", "create", "demo", "doc.json", cwd=tmp_path).returncode == 0
    assert loom(url, "app", "export", "demo", "demo.zip", cwd=tmp_path).returncode == 0
    assert loom(url, "app", "export", "demo", "edit", cwd=tmp_path).returncode == 0
    lead_file = tmp_path / "edit/entities/lead.json"
    lead = json.loads(lead_file.read_text(encoding="utf-8"))
    lead["fields"]["phone"] = {"type": "phone"}
    lead_file.write_text(json.dumps(lead, ensure_ascii=False), encoding="utf-8")

    unconfirmed = loom(url, "app", "import", "edit", "--as", "demo", cwd=tmp_path)
    assert unconfirmed.returncode == 3, unconfirmed.stderr
    assert "+ entities.lead: field 'phone' added (phone)" in unconfirmed.stdout
    assert "nothing changed" in unconfirmed.stdout

    confirmed = loom(url, "app", "import", "edit", "--as", "demo", "--yes",
                     "--message", "phones for leads", cwd=tmp_path)
    assert confirmed.returncode == 0, confirmed.stderr
    assert "published version 2" in confirmed.stdout
    assert "add column lead.phone" in confirmed.stdout

    versions = loom(url, "app", "versions", "demo", cwd=tmp_path)
    assert "phones for leads" in versions.stdout.splitlines()[0]
    diff = loom(url, "app", "diff", "demo", "--from", "1", "--to", "2", cwd=tmp_path)
    assert "field 'phone' added (phone)" in diff.stdout
    rolled = loom(url, "app", "rollback", "demo", "1", cwd=tmp_path)
    assert rolled.returncode == 0, rolled.stderr
    assert "published version 3" in rolled.stdout
    assert "column lead.phone kept (field removed)" in rolled.stdout
    trail = loom(url, "app", "audit", "demo", cwd=tmp_path)
    entries = [line for line in trail.stdout.splitlines() if "(cli)" in line]
    assert "rolled_back v3  rolled back to version 1" in entries[0]
    assert "published v2  phones for leads" in entries[1]
    assert "imported  phones for leads" in entries[2]

    from_zip = loom(url, "app", "import", "demo.zip", "--as", "twin", cwd=tmp_path)
    assert from_zip.returncode == 0, from_zip.stderr
    assert "twin: published version 1" in from_zip.stdout


def test_clone_the_crm_template_and_see_its_layers(empty_database_url: str,
                                                   tmp_path: Path) -> None:
    url = empty_database_url
    assert loom(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    listed = loom(url, "app", "templates", cwd=tmp_path)
    assert listed.stdout.startswith("crm\t"), listed.stdout

    cloned = loom(url, "app", "create", "crm_east", "--template", "crm", cwd=tmp_path)

    assert cloned.returncode == 0, cloned.stderr
    assert "crm_east: published version 1" in cloned.stdout
    layers = loom(url, "app", "overlay", "crm_east", cwd=tmp_path)
    assert "template crm" in layers.stdout and "(no changes)" in layers.stdout
    upgrade = loom(url, "app", "upgrade", "crm_east", "--dry-run", cwd=tmp_path)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "(up to date)" in upgrade.stdout


def test_errors_are_messages_not_tracebacks(empty_database_url: str, tmp_path: Path) -> None:
    url = empty_database_url
    assert loom(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    bad = {**DOC, "entities": {"lead": {"label": "Lead",
                                        "fields": {"amount": {"type": "decmal"}}}}}
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    for args in (("app", "create", "demo", "bad.json"), ("app", "create", "demo", "broken.json"),
                 ("app", "export", "missing", "out"), ("app", "create", "Bad Slug", "bad.json"),
                 ("app", "create", "demo", "--template", "nope")):
        result = loom(url, *args, cwd=tmp_path)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("error: "), result.stderr
    result = loom(url, "app", "create", "demo", "bad.json", cwd=tmp_path)
    assert "entities.lead.fields.amount.type: 'decmal' is not a field type; did you mean " \
           "'decimal'?" in result.stderr


def test_user_create(empty_database_url: str, tmp_path: Path) -> None:
    url = empty_database_url
    assert loom(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    made = loom(url, "user", "create", "li@example.com", "--name", "李四",
                "--department", "销售部", "--manager", "boss@example.com", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "password:" in made.stdout
    twice = loom(url, "user", "create", "li@example.com", "--name", "李四", cwd=tmp_path)
    assert twice.returncode == 1
    assert "already exists" in twice.stderr


def test_user_deactivate_hands_over_records(empty_database_url: str, tmp_path: Path) -> None:
    url = empty_database_url
    assert loom(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    for email, name in (("li@example.com", "李四"), ("wang@example.com", "王五")):
        assert loom(url, "user", "create", email, "--name", name, cwd=tmp_path).returncode == 0
    owned = {"app": DOC["app"], "entities": {"lead": {"label": "Lead", "fields": {
        "name": {"type": "text"}, "owner": {"type": "user"}}}}}
    (tmp_path / "owned.json").write_text(json.dumps(owned), encoding="utf-8")
    assert loom(url, "app", "create", "sales", "owned.json", cwd=tmp_path).returncode == 0
    rows = tmp_path / "leads.csv"
    rows.write_text("name,owner\n线索一,li@example.com\n线索二,li@example.com\n",
                    encoding="utf-8")
    imported = loom(url, "import", "sales", "lead", str(rows), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr

    gone = loom(url, "user", "deactivate", "LI@example.com", "--reassign-to",
                "wang@example.com", cwd=tmp_path)

    assert gone.returncode == 0, gone.stderr
    result = json.loads(gone.stdout)
    assert result["user"]["active"] is False and result["reassigned_to"] == "wang@example.com"
    assert result["reassigned"] == {"tasks": 0, "records": 2}
    assert result["not_reassigned"] == []
    unknown = loom(url, "user", "deactivate", "ghost@example.com", cwd=tmp_path)
    assert unknown.returncode == 1 and "There is no user ghost@example.com" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_app_check_needs_no_database(tmp_path: Path) -> None:
    good = {**DOC, "rules": {"mark": {
        "entity": "lead", "trigger": {"on": "create"},
        "condition": {"!": {"var": "customer"}},
        "actions": [{"type": "set_field", "field": "name", "value": "?"}]}}}
    (tmp_path / "good.json").write_text(json.dumps(good), encoding="utf-8")
    checked = loom("sqlite:///nowhere/never.db", "app", "check", "good.json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "2 entities, 1 rules, 0 flows — no problems" in checked.stdout
    bad = {**good, "rules": {"mark": {**good["rules"]["mark"], "actions": [
        {"type": "set_field", "field": "nmae", "value": "?"}]}}}
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    refused = loom("sqlite:///nowhere/never.db", "app", "check", "bad.json", cwd=tmp_path)
    assert refused.returncode == 1
    assert "rules.mark.actions[0].field: Lead has no field 'nmae'" in refused.stderr
    assert "Traceback" not in refused.stderr
