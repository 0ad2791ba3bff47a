"""The one permission check. The records API, lists, exports, imports, dashboards, rules
and flows all ask here, so they cannot disagree about who may see or change what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from loom.metamodel.errors import PermissionDenied
from loom.metamodel.i18n import message, register_messages
from loom.platform.apps.runtime import AppRuntime
from loom.platform.security.actors import Actor

Operation = Literal["create", "read", "update", "delete", "export", "import"]

register_messages({
    "denied_entity": {
        "en": "You may not {operation} {entity} records",
        "zh-CN": "您没有{operation_zh}{entity}记录的权限",
    },
})

OPERATION_ZH = {"create": "新建", "read": "查看", "update": "修改", "delete": "删除",
                "export": "导出", "import": "导入"}


@dataclass(frozen=True)
class Access:
    """What an actor may do with one entity: readable/writable field names (None = all)."""

    readable: frozenset[str] | None = None
    writable: frozenset[str] | None = None

    def can_read(self, field: str) -> bool:
        return self.readable is None or field in self.readable

    def can_write(self, field: str) -> bool:
        return self.writable is None or field in self.writable


FULL_ACCESS = Access()


def authorize(actor: Actor, runtime: AppRuntime, entity: str, operation: Operation) -> Access:
    """May ``actor`` perform ``operation`` on ``entity`` records of this app? Raises
    PermissionDenied when not; returns the field-level access when yes.

    Administrators (and the system acting for rules and flows) may do everything; other
    users are granted access through the app's roles.
    """
    runtime.entity(entity)
    if actor.is_admin:
        return FULL_ACCESS
    raise PermissionDenied(message("denied_entity", operation=operation,
                                   operation_zh=OPERATION_ZH[operation],
                                   entity=runtime.entity(entity).label))
