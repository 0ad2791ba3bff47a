"""Forms: how one entity's record is laid out and behaves on screen.

A form is tabs of sections (or sections alone); a section has a number of columns and
places fields in them, each with optional ``visible`` / ``required`` / ``readonly``
conditions in the condition language, and may hold sub-tables (a ``subtable`` field's
child records, e.g. a quote's items). ``related`` lists the records of other entities
that point at this one, directly (``contact.customer``) or along a path of lookups
(``payment.contract.customer``): the record's 360° view.

```json
{"entity": "quote", "label": {"zh-CN": "报价", "en": "Quote"},
 "sections": [
   {"name": "main", "label": {"zh-CN": "基本信息", "en": "Basics"}, "columns": 2,
    "fields": ["opportunity", "status",
               {"field": "valid_until", "required": {"==": [{"var": "status"}, "sent"]}}]},
   {"name": "lines", "label": {"zh-CN": "明细", "en": "Items"},
    "subtables": [{"field": "items", "columns": ["product", "quantity", "amount"]}]}],
 "related": [{"entity": "contract", "via": "opportunity.quote"}]}
```

The engines check the references and compile the conditions at publish.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from loom.metamodel.fields import ApiName, LocalizedText
from loom.metamodel.views import MAX_COLUMNS

MAX_RELATED_LIMIT = 50
# A condition, or a constant: `"required": true` is the same as a condition that always holds.
Condition = bool | dict[str, Any]
LookupPath = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,3}$",
                                  max_length=170)]


class FieldPlacement(BaseModel):
    """A field on the form; ``span`` is how many of the section's columns it takes."""

    model_config = ConfigDict(extra="forbid")

    field: ApiName
    label: LocalizedText | None = Field(default=None, description="Overrides the field's label")
    help: LocalizedText | None = None
    span: Annotated[int, Field(ge=1, le=4)] = 1
    visible: Condition | None = Field(default=None, description="Shown only when it holds")
    required: Condition | None = Field(
        default=None, description="Must be filled when it holds (and the field is visible)")
    readonly: Condition | None = Field(default=None, description="Not editable when it holds")


class SubtablePlacement(BaseModel):
    """A sub-table: the child records of a ``subtable`` field, edited as rows."""

    model_config = ConfigDict(extra="forbid")

    field: ApiName = Field(description="A subtable field of the form's entity, e.g. items")
    label: LocalizedText | None = None
    columns: Annotated[list[ApiName], Field(min_length=1, max_length=MAX_COLUMNS)] = Field(
        description="Fields of the child entity shown as columns")
    visible: Condition | None = None
    readonly: Condition | None = None


class SectionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ApiName
    label: LocalizedText | None = None
    columns: Annotated[int, Field(ge=1, le=4)] = 2
    fields: list[ApiName | FieldPlacement] = Field(
        default_factory=list, description="Field names, or placements with conditions")
    subtables: list[SubtablePlacement] = Field(default_factory=list)
    visible: Condition | None = Field(default=None, description="The whole section")
    collapsed: bool = False

    @field_validator("fields", mode="after")
    @classmethod
    def _placements(cls, value: list[Any]) -> list[Any]:
        # a bare name is a placement without conditions; code sees placements only
        return [FieldPlacement(field=item) if isinstance(item, str) else item for item in value]

    @field_serializer("fields")
    def _names_where_plain(self, value: list[Any]) -> list[Any]:
        # written back as it was written: a placement with nothing but its field is a name
        return [item.field if isinstance(item, FieldPlacement)
                and not item.model_fields_set - {"field"} else item for item in value]

    def placements(self) -> list[FieldPlacement]:
        return [item for item in self.fields if isinstance(item, FieldPlacement)]


class TabSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ApiName
    label: LocalizedText
    sections: Annotated[list[SectionSpec], Field(min_length=1)]
    visible: Condition | None = None


class RelatedListSpec(BaseModel):
    """Records of ``entity`` whose lookup path ``via`` leads to this record."""

    model_config = ConfigDict(extra="forbid")

    entity: ApiName
    via: LookupPath = Field(description="A lookup of `entity` to the form's entity "
                            "(customer), or a path of lookups (contract.customer)")
    name: ApiName | None = Field(default=None, description="Defaults to the entity's name")
    label: LocalizedText | None = Field(default=None, description="Defaults to the entity's")
    columns: Annotated[list[ApiName], Field(max_length=MAX_COLUMNS)] | None = Field(
        default=None, description="Defaults to the entity's title field and a few others")
    sort: Annotated[str, Field(max_length=400)] | None = Field(
        default=None, description="e.g. -created_at (the default)")
    filter: dict[str, Any] | None = Field(default=None, description="JSON Logic on `entity`")
    limit: Annotated[int, Field(ge=1, le=MAX_RELATED_LIMIT)] = 5

    @property
    def key(self) -> str:
        return self.name or self.entity


class FormSpec(BaseModel):
    """A form of one entity: ``tabs`` of sections, or ``sections`` alone."""

    model_config = ConfigDict(extra="forbid")

    entity: ApiName
    label: LocalizedText
    description: LocalizedText | None = None
    tabs: list[TabSpec] = Field(default_factory=list)
    sections: list[SectionSpec] = Field(default_factory=list)
    related: list[RelatedListSpec] = Field(
        default_factory=list, description="Related lists: the record's 360° view")

    def all_sections(self) -> list[tuple[str, SectionSpec]]:
        """Every section with its path in the document (``tabs[0].sections[1]``)."""
        found = [(f"sections[{i}]", s) for i, s in enumerate(self.sections)]
        for t, tab in enumerate(self.tabs):
            found += [(f"tabs[{t}].sections[{i}]", s) for i, s in enumerate(tab.sections)]
        return found
