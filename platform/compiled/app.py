"""An app version ready to run: its document, its tables and (as engines grow) everything
compiled from it. Built once per (app, version) and shared; never mutated."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from loom.engines.flows.navigator import CompiledFlow
from loom.engines.forms.computed import EntityExpressions, compile_entity
from loom.engines.key_references import KeyReferences
from loom.engines.rules.compiler import RuleSet
from loom.metamodel.app import AppDocument
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import NotFound
from loom.metamodel.i18n import message, register_messages
from loom.platform.storage.entity_tables import EntityTables, Namespace

register_messages({
    "no_such_entity": {"en": "The app {app} has no entity '{entity}'",
                       "zh-CN": "应用 {app} 中没有实体“{entity}”"},
})


@dataclass(frozen=True)
class AppRuntime:
    app_id: int
    slug: str
    workspace_id: int
    workspace_slug: str
    version: int
    doc: AppDocument
    tables: EntityTables
    expressions: dict[str, EntityExpressions]
    rules: RuleSet
    flows: dict[str, CompiledFlow]
    keys: KeyReferences  # records the metadata names by a value (deleting them is refused)

    def entity(self, name: str) -> EntitySpec:
        spec = self.doc.entities.get(name)
        if spec is None:
            raise NotFound(message("no_such_entity", app=self.slug, entity=name))
        return spec


class RuntimeCache:
    """Compiled app versions by (app id, version); bounded, least recently used dropped."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, int], AppRuntime] = OrderedDict()

    def get(self, key: tuple[int, int]) -> AppRuntime | None:
        runtime = self._items.get(key)
        if runtime is not None:
            self._items.move_to_end(key)
        return runtime

    def put(self, runtime: AppRuntime) -> None:
        self._items[(runtime.app_id, runtime.version)] = runtime
        self._items.move_to_end((runtime.app_id, runtime.version))
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def build_runtime(app_row: Any, workspace_slug: str, version: int, doc: AppDocument, *,
                  postgres: bool) -> AppRuntime:
    namespace = Namespace.for_app(workspace_slug, app_row["slug"], postgres=postgres)
    return AppRuntime(app_id=app_row["id"], slug=app_row["slug"],
                      workspace_id=app_row["workspace_id"], workspace_slug=workspace_slug,
                      version=version, doc=doc, tables=EntityTables(doc, namespace),
                      expressions={name: compile_entity(doc, name) for name in doc.entities},
                      rules=RuleSet.compile(doc),
                      flows={name: CompiledFlow.compile(doc, name) for name in doc.flows},
                      keys=KeyReferences.find(doc))
