"""Entities: a business object (lead, contract, …) with its fields and indexes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from loom.metamodel.fields import ApiName, FieldSpec, FieldType, LocalizedText
from loom.metamodel.i18n import localize
from loom.metamodel.rules import RecordAction

# Columns every entity table has; field names may not take them.
SYSTEM_FIELDS: dict[str, FieldType] = {
    "id": FieldType.INTEGER,
    "version": FieldType.INTEGER,
    "created_at": FieldType.DATETIME,
    "updated_at": FieldType.DATETIME,
    "created_by": FieldType.USER,
    "updated_by": FieldType.USER,
}

SYSTEM_FIELD_LABELS: dict[str, dict[str, str]] = {
    "id": {"zh-CN": "编号", "en": "ID"},
    "version": {"zh-CN": "版本", "en": "Version"},
    "created_at": {"zh-CN": "创建时间", "en": "Created at"},
    "updated_at": {"zh-CN": "更新时间", "en": "Updated at"},
    "created_by": {"zh-CN": "创建人", "en": "Created by"},
    "updated_by": {"zh-CN": "更新人", "en": "Updated by"},
}


class IndexSpec(BaseModel):
    """A database index over one or more fields, declared in metadata."""

    model_config = ConfigDict(extra="forbid")

    fields: Annotated[list[ApiName], Field(min_length=1, max_length=8)]
    unique: bool = False
    name: ApiName | None = None


class ActivitySpec(BaseModel):
    """Records of this entity are activities (a call, a visit, a note) on the records they
    point at: each shows in the timeline of every record one of its lookups names."""

    model_config = ConfigDict(extra="forbid")

    at: ApiName | None = Field(default=None, description="The date or datetime field saying "
                               "when it happened (default: when the record was created)")
    by: ApiName | None = Field(default=None, description="The user field saying who did it "
                               "(default: the owner field, else who created the record)")
    kind: ApiName | None = Field(default=None, description="A select field naming its kind "
                                 "(call, visit, …)")
    text: list[ApiName] = Field(default_factory=list, max_length=8,
                                description="Fields shown under its title (notes, …)")


class EntitySpec(BaseModel):
    """An entity: ``fields`` is keyed by API name, which never changes once data exists."""

    model_config = ConfigDict(extra="forbid")

    name: ApiName | None = Field(default=None, description="Defaults to the key in `entities`")
    label: LocalizedText
    plural_label: LocalizedText | None = None
    description: LocalizedText | None = None
    fields: dict[ApiName, FieldSpec] = Field(default_factory=dict)
    indexes: list[IndexSpec] = Field(default_factory=list)
    title_field: ApiName | None = Field(
        default=None, description="The field that names a record (defaults to `name`)")
    owner_field: ApiName | None = Field(
        default=None, description="The user field that says who owns a record ('own' scope)")
    actions: dict[ApiName, RecordAction] = Field(
        default_factory=dict, description="Record actions (buttons) defined in metadata")
    activity: ActivitySpec | None = Field(
        default=None, description="Its records are activities in the timelines of the "
        "records they point at")

    def field(self, name: str) -> FieldSpec | None:
        return self.fields.get(name)

    def field_label(self, name: str) -> Any:
        spec = self.fields.get(name)
        if spec is not None and spec.label:
            return spec.label
        return SYSTEM_FIELD_LABELS.get(name, name)

    def display_label(self, locale: str) -> str:
        return localize(self.label, locale) or (self.name or "")

    def title(self) -> str | None:
        if self.title_field:
            return self.title_field
        return "name" if "name" in self.fields else None

    def owner(self) -> str | None:
        if self.owner_field:
            return self.owner_field
        owner = self.fields.get("owner")
        return "owner" if owner is not None and owner.type is FieldType.USER else None

    def stored_fields(self) -> dict[str, FieldSpec]:
        """Fields that have a column on this entity's table."""
        return {name: spec for name, spec in self.fields.items() if spec.has_column}
