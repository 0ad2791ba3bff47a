"""The CRM template is configuration: it passes every check a publish makes, and no Python
of the platform names anything of it (CRM_TEMPLATE.md: "no Python code may be specific to
the CRM")."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from loom.engines.metadata_checks import check_app
from loom.metamodel.validation import parse_document, schema_problems
from loom.platform.apps.templates import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "starter_templates" / "crm"
CODE = ("platform", "engines", "metamodel", "renderers")
# words the platform itself defines (a record scope, semantic categories, the demo-data
# switch) which the template also happens to use as names
PLATFORM_WORDS = {"team", "won", "lost", "demo"}


def test_the_template_passes_every_publish_check() -> None:
    document = load_template("crm")
    assert schema_problems(document) == []
    parsed = parse_document(document)
    assert check_app(parsed) == []
    assert len(parsed.entities) >= 15 and len(parsed.rules) >= 40 and len(parsed.flows) >= 3
    assert set(parsed.roles) == {"sales_rep", "sales_manager", "sales_director", "legal",
                                 "finance", "service_engineer", "service_lead", "admin"}


def _template_names() -> set[str]:
    """Entity, rule and flow names, and the values of the template's own option lists."""
    names = {path.stem for folder in ("entities", "rules", "flows")
             for path in (TEMPLATE / folder).glob("*.json")}
    entities = {path.stem: json.loads(path.read_text()) for path in
                (TEMPLATE / "entities").glob("*.json")}
    for entity, field in (("lead", "region"), ("customer", "rfm_tier"),
                          ("opportunity", "stage"), ("customer", "tag")):
        names |= {o["value"] for o in entities[entity]["fields"][field]["options"]}
    return names - PLATFORM_WORDS


def test_no_platform_code_names_the_crm() -> None:
    names = _template_names()
    assert {"lead", "east_china", "important_value", "initial_contact"} <= names
    found = []
    for folder in CODE:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in names:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert found == []
