"""Views: saved list views of one entity that a user opens by name.

A ``list`` view is a page of records with chosen columns, a filter and a sort; a
``kanban`` view groups the same records into one column per option of a select field, in
the option order, each column carrying the option's semantic category (open, won, lost…).

```json
{"entity": "lead", "label": {"zh-CN": "我的线索", "en": "My leads"}, "kind": "list",
 "columns": ["name", "company", "status", "next_follow_up_on"],
 "filter": {"==": [{"var": "owner"}, {"current_user": "id"}]},
 "sort": "-created_at", "page_size": 50}
```

The filter is the condition language (it may read the current user and relative dates);
the engines check and compile it at publish. This module only says what a view is.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loom.metamodel.fields import ApiName, LocalizedText

MAX_PAGE_SIZE = 200
MAX_COLUMNS = 40

ViewKind = Literal["list", "kanban"]


class ViewSpec(BaseModel):
    """One saved view of an entity's records."""

    model_config = ConfigDict(extra="forbid")

    entity: ApiName = Field(description="The entity whose records the view lists")
    label: LocalizedText
    description: LocalizedText | None = None
    kind: ViewKind = "list"
    columns: Annotated[list[ApiName], Field(min_length=1, max_length=MAX_COLUMNS)] = Field(
        description="The fields shown, in order (system fields such as created_at too)")
    filter: dict[str, Any] | None = Field(
        default=None, description="JSON Logic: only the records it holds for; may read the "
        "current user ({\"current_user\": \"id\"}) and relative dates ({\"today\": []})")
    sort: Annotated[str, Field(max_length=400)] | None = Field(
        default=None, description="e.g. -amount,name (a leading - sorts descending)")
    group_by: ApiName | None = Field(
        default=None, description="kanban: the select field whose options are the columns")
    sum: ApiName | None = Field(
        default=None, description="kanban: a number field each column shows the total of")
    rank: ApiName | None = Field(
        default=None, description="kanban: a number field that orders the cards of a column "
        "(before the view's sort); dragging a card within its column sets it")
    page_size: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = Field(
        default=50, description="Records per page (per column on a kanban)")
    roles: list[ApiName] | None = Field(
        default=None, description="Only members of these roles see the view (administrators "
        "always do); reading the entity is needed in any case")
    order: int = Field(default=100, description="Position in the list of views")
