"""What one reader may use of an app, gathered from the one permission layer for
``GET /api/apps/{app}/schema`` (the renderer turns it into the JSON the web app reads)."""

from __future__ import annotations

from loom.platform.compiled.app import AppRuntime
from loom.platform.dashboards.service import may_open as may_open_dashboard
from loom.platform.records.views import may_open as may_open_view
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import builds_app, entity_rights
from loom.renderers.reader_schema import FieldTest, Reader, ReaderEntity


def reader_of(runtime: AppRuntime, actor: Actor) -> Reader:
    """``actor`` (with their roles in the app) as the reader of ``runtime``."""
    entities = {}
    for name in runtime.doc.entities:
        rights = entity_rights(actor, runtime, name)
        if "read" in rights.operations:
            entities[name] = ReaderEntity(rights.operations, _test(rights.readable),
                                          _test(rights.writable))
    return Reader(
        roles=frozenset(actor.roles), builder=builds_app(actor, runtime), admin=actor.is_admin,
        entities=entities,
        views=frozenset(name for name, view in runtime.doc.views.items()
                        if may_open_view(actor, view)),
        dashboards=frozenset(name for name, board in runtime.doc.dashboards.items()
                             if may_open_dashboard(actor, board)))


def _test(names: frozenset[str] | None) -> FieldTest:
    return (lambda _name: True) if names is None else names.__contains__
