"""Roles: what the members of a role may do in an app — per entity create / read / update /
delete / export / import, per field hidden / read / write, and for read, update and delete
*which records*: none, their own, their team's, their department's (sub-departments
included), all, or those a condition holds for (``{"==": [{"var": "region"},
{"current_user": "department"}]}``), or several of these at once (a list). A user's roles
add up: the widest grant wins.

Who is in a role is data, not metadata (``PUT /api/apps/{app}/roles/{role}`` with
``members``), so people come and go without a new version.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loom.metamodel.fields import ApiName, LocalizedText

Scope = Literal["none", "own", "team", "department", "all"]
SCOPES: tuple[str, ...] = ("none", "own", "team", "department", "all")
FieldAccess = Literal["hidden", "read", "write"]
# A scope is one of SCOPES, a JSON Logic condition on the record, or a list of them that
# adds up (["team", {"is_blank": {"var": "owner"}}]: the team's records and the unowned).
ScopeItem = Scope | dict[str, Any]
ScopeValue = ScopeItem | list[ScopeItem]


def scope_items(value: ScopeValue) -> list[ScopeItem]:
    """The scopes a value adds up (a single scope is a list of one)."""
    return list(value) if isinstance(value, list) else [value]


def reaches(value: ScopeValue) -> bool:
    """Whether the value reaches any record at all."""
    return any(item != "none" for item in scope_items(value))


class EntityPermissions(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    create: bool = False
    read: ScopeValue = "none"
    update: ScopeValue = "none"
    delete: ScopeValue = "none"
    export: bool = False
    import_: bool = Field(default=False, alias="import")
    fields: dict[ApiName, FieldAccess] = Field(
        default_factory=dict, description="Fields not listed are writable where the role "
        "may create or update, readable where it may read")


class RoleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: LocalizedText | None = None
    description: LocalizedText | None = None
    permissions: dict[ApiName, EntityPermissions] = Field(
        default_factory=dict, description="Per entity; entities not listed are out of reach")
    app_builder: bool = Field(default=False, description="May edit and publish this app's "
                              "metadata (without being a workspace administrator)")
