"""Static checks of an app document that need the engines' languages: formulas, conditions
rules, flows and the conditions of roles — and ``check_metadata``, the whole check a draft
gets on every save and a publish before it changes anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loom.engines.flows.flow_checks import check_flows
from loom.engines.forms import computed
from loom.engines.forms.form_checks import check_forms
from loom.engines.forms.stage_checks import check_stage_paths
from loom.engines.query.dashboard_checks import check_dashboards
from loom.engines.query.view_checks import check_views
from loom.engines.roles import check_roles
from loom.engines.rules.rule_checks import check_rules
from loom.metamodel.app import AppDocument
from loom.metamodel.errors import MetadataInvalid, Problem
from loom.metamodel.i18n import message
from loom.metamodel.validation import in_order, read_document, strict_document


def check_app(doc: AppDocument) -> list[Problem]:
    return (computed.check_document(doc) + check_rules(doc) + check_flows(doc)
            + check_roles(doc) + check_dashboards(doc) + check_views(doc) + check_forms(doc)
            + check_stage_paths(doc))


@dataclass(frozen=True)
class MetadataCheck:
    """Every problem of a document (deduplicated, by path), and the document as its typed
    model when it has none."""

    problems: list[Problem]
    document: AppDocument | None


def check_metadata(document: Any) -> MetadataCheck:
    """Every check at once: shape, references, expressions, rules, flows, views, forms,
    dashboards and roles. Each item is checked as far as it reads, so one broken field or
    rule hides nothing else; the table changes of a publish come on top."""
    reading = read_document(document)
    problems = reading.problems
    if reading.salvaged is not None:
        problems = in_order(problems + reading.after_repairs(
            check_app(reading.salvaged.document)))
    if problems:
        return MetadataCheck(problems, None)
    try:
        return MetadataCheck([], strict_document(document))
    except MetadataInvalid as exc:
        return MetadataCheck(exc.problems, None)


def checked_document(document: Any) -> AppDocument:
    """The document, when it passes every check; else MetadataInvalid with every problem."""
    result = check_metadata(document)
    if result.document is None:
        raise MetadataInvalid(message("metadata_invalid"), result.problems)
    return result.document
