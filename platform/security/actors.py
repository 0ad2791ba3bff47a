"""Who is acting: the user (or system) on whose behalf a change runs, and through which door."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Source = Literal["api", "ui", "import", "rule", "flow", "cli", "system", "job"]


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    email: str
    workspace_id: int
    is_admin: bool = False
    name: str = ""
    department_id: int | None = None
    manager_id: int | None = None
    locale: str = "zh-CN"
    roles: frozenset[str] = field(default_factory=frozenset)
    source: Source = "api"

    def via(self, source: Source) -> Actor:
        """The same person acting through another door (e.g. a rule they triggered)."""
        return Actor(self.user_id, self.email, self.workspace_id, self.is_admin, self.name,
                     self.department_id, self.manager_id, self.locale, self.roles, source)


    def with_roles(self, roles: frozenset[str] | set[str]) -> Actor:
        """The same person with their roles in one app."""
        return Actor(self.user_id, self.email, self.workspace_id, self.is_admin, self.name,
                     self.department_id, self.manager_id, self.locale, frozenset(roles),
                     self.source)


def system_actor(workspace_id: int, source: Source = "system") -> Actor:
    return Actor(user_id=None, email="system", workspace_id=workspace_id, is_admin=True,
                 name="system", source=source)
