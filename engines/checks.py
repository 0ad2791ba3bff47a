"""Static checks of an app document that need the engines' languages: formulas, conditions
rules, flows and the conditions of roles. The publish runs them after the schema checks;
any problem refuses the publish with the whole list."""

from __future__ import annotations

from loom.engines.flows.checks import check_flows
from loom.engines.forms import computed
from loom.engines.forms.form_checks import check_forms
from loom.engines.forms.stage_checks import check_stage_paths
from loom.engines.query.dashboard_checks import check_dashboards
from loom.engines.query.view_checks import check_views
from loom.engines.roles import check_roles
from loom.engines.rules.checks import check_rules
from loom.metamodel.app import AppDocument
from loom.metamodel.errors import Problem


def check_app(doc: AppDocument) -> list[Problem]:
    return (computed.check_document(doc) + check_rules(doc) + check_flows(doc)
            + check_roles(doc) + check_dashboards(doc) + check_views(doc) + check_forms(doc)
            + check_stage_paths(doc))
