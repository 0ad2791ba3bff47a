"""Dashboards of a published app: those a reader may open, and one computed for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import NotTranslatable, Scope, check_condition, compile_condition
from loom.metamodel.dashboards import DashboardSpec
from loom.metamodel.errors import BadRequest, NotFound, Problem
from loom.metamodel.i18n import localize, message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment
from loom.platform.dashboards.measures import Measuring
from loom.platform.dashboards.parameters import parse_period
from loom.platform.dashboards.widgets import widget_figures
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import trusted

register_messages({
    "dash_not_found": {"en": "The app {app} has no dashboard '{name}'",
                       "zh-CN": "应用 {app} 中没有看板“{name}”"},
    "dash_filter_nowhere": {
        "en": "The filter fits no entity of this dashboard: {detail}",
        "zh-CN": "筛选条件不适用于本看板的任何实体：{detail}"},
    "dash_filter_not_sql": {"en": "The filter cannot run in the database: {reason}",
                            "zh-CN": "该筛选条件无法在数据库中执行：{reason}"},
})


def may_open(actor: Actor, dashboard: DashboardSpec) -> bool:
    """Members of the dashboard's roles (everyone in the app when it names none); what each
    figure counts is still decided by the reader's record permissions."""
    return trusted(actor) or not dashboard.roles or bool(set(dashboard.roles) & actor.roles)


def list_dashboards(runtime: AppRuntime, actor: Actor, locale: str) -> list[dict[str, Any]]:
    found = [(spec.order, name, spec) for name, spec in runtime.doc.dashboards.items()
             if may_open(actor, spec)]
    return [{"name": name, "label": localize(spec.label, locale),
             "description": localize(spec.description, locale) if spec.description else None,
             "default_period": spec.default_period,
             "widgets": [{"name": w.name, "kind": w.kind, "label": localize(w.label, locale)}
                         for w in spec.widgets]}
            for _order, name, spec in sorted(found, key=lambda item: (item[0], item[1]))]


def dashboard_of(runtime: AppRuntime, actor: Actor, name: str) -> DashboardSpec:
    spec = runtime.doc.dashboards.get(name)
    if spec is None or not may_open(actor, spec):  # one not for them does not exist for them
        raise NotFound(message("dash_not_found", app=runtime.slug, name=name))
    return spec


def _entities(spec: DashboardSpec) -> set[str]:
    found: set[str] = set()
    for widget in spec.widgets:
        for attribute in ("entity", "numerator", "denominator", "stages"):
            value = getattr(widget, attribute, None)
            if isinstance(value, str):
                found.add(value)
            elif value is not None:
                found.add(value.entity)
        for measure in (getattr(widget, "steps", None) or []) + \
                (getattr(widget, "series", None) or []):
            found.add(measure.entity)
    return found


def check_extra_filter(runtime: AppRuntime, spec: DashboardSpec, rule: Any) -> None:
    """An extra filter must fit at least one entity of the dashboard and run in SQL."""
    first_problem: Problem | None = None
    for entity in sorted(_entities(spec)):
        scope = Scope.for_entity(runtime.doc, entity)
        problems = check_condition(rule, scope)
        if problems:
            first_problem = first_problem or problems[0]
            continue
        compiled = compile_condition(rule, scope)
        if compiled.sql_problem is not None:
            raise BadRequest(message("dash_filter_not_sql", reason=compiled.sql_problem),
                             [Problem("filter", message("dash_filter_not_sql",
                                                        reason=compiled.sql_problem))])
        return
    detail = first_problem.message if first_problem is not None else "-"
    raise BadRequest(message("dash_filter_nowhere", detail=detail),
                     [Problem("filter", message("dash_filter_nowhere", detail=detail))])


async def compute_dashboard(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                            name: str, now: datetime, *, preset: str | None = None,
                            start: str | None = None, end: str | None = None,
                            rule: Any = None, locale: str = "zh-CN") -> dict[str, Any]:
    spec = dashboard_of(runtime, actor, name)
    today = environment(runtime, actor, now).today
    assert today is not None
    period = parse_period(preset, start, end, today, spec.default_period)
    if rule in ({}, True):
        rule = None
    if rule is not None:
        check_extra_filter(runtime, spec, rule)
    m = Measuring(conn, runtime, actor, now, period, rule)
    try:
        widgets = [await widget_figures(m, widget, locale) for widget in spec.widgets]
    except NotTranslatable as exc:  # refused at publish; never a 500 if one slips through
        raise BadRequest(message("dash_filter_not_sql", reason=str(exc))) from None
    body: dict[str, Any] = {
        "name": name, "label": localize(spec.label, locale),
        "period": {**period.as_json(), "timezone": runtime.doc.app.timezone},
        "generated_at": now, "widgets": widgets}
    if spec.description is not None:
        body["description"] = localize(spec.description, locale)
    if rule is not None:
        body["filter"] = rule
    return body
