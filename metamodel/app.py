"""The app document set: ``{"app", "entities", "forms", "views", "rules", "flows", "dashboards",
"roles", "jobs"}``, each section keyed by item name (the public contract)."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loom.metamodel.calendars import CalendarSpec
from loom.metamodel.dashboards import DashboardSpec
from loom.metamodel.entity import EntitySpec
from loom.metamodel.fields import ApiName, LocalizedText
from loom.metamodel.flows import FlowSpec
from loom.metamodel.forms import FormSpec
from loom.metamodel.jobs import JobSpec
from loom.metamodel.roles import RoleSpec
from loom.metamodel.rules import RuleSpec
from loom.metamodel.views import ViewSpec

# Sections whose items have their own file when an app is exported to a folder.
ITEM_SECTIONS = ("entities", "forms", "views", "rules", "flows", "dashboards", "roles", "jobs")


class AppInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: LocalizedText
    description: LocalizedText | None = None
    default_locale: str = "zh-CN"
    timezone: str = Field(default="Asia/Shanghai",
                          description="Wall-clock times and 'today' are read in this zone")
    calendars: dict[ApiName, CalendarSpec] = Field(
        default_factory=dict, description="Business calendars for SLA clocks, by name")
    home: ApiName | None = Field(default=None, description="The view or dashboard the app "
                                 "opens on (for readers who may open it)")
    template: str | None = Field(default=None, description="Template this app was created from")
    template_version: str | None = None
    require_if_match: bool = Field(
        default=True, description="Changing or deleting a record over the API needs "
        "If-Match: \"<version>\" (428 without it), so the last write never silently wins; "
        "false lets a change without it through")


class AppDocument(BaseModel):
    """Everything an app is, as data. Sections other than entities are typed by their engines."""

    model_config = ConfigDict(extra="forbid")

    app: AppInfo
    entities: dict[ApiName, EntitySpec] = Field(default_factory=dict)
    forms: dict[ApiName, FormSpec] = Field(default_factory=dict)
    views: dict[ApiName, ViewSpec] = Field(default_factory=dict)
    rules: dict[ApiName, RuleSpec] = Field(default_factory=dict)
    flows: dict[ApiName, FlowSpec] = Field(default_factory=dict)
    dashboards: dict[ApiName, DashboardSpec] = Field(default_factory=dict)
    roles: dict[ApiName, RoleSpec] = Field(default_factory=dict)
    jobs: dict[ApiName, JobSpec] = Field(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        for name, entity in self.entities.items():
            if entity.name is None:
                entity.name = name
        for section in (self.rules, self.flows):
            for name, item in section.items():
                if item.name is None:
                    item.name = name

    def entity(self, name: str) -> EntitySpec | None:
        return self.entities.get(name)

    def to_json(self) -> dict[str, Any]:
        """The document as plain JSON data: stable, without defaults nobody wrote and
        without names that repeat their key."""
        # Python mode, then made plain: JSON mode would turn the exact decimals of
        # conditions and formulas (0.5) into text ("0.5"), and a document read back and
        # published again would compare numbers with text
        data = _plain(self.model_dump(exclude_none=True, exclude_defaults=True,
                                      by_alias=True))
        # the app's settings are written out, except a safety default left as it is
        data["app"] = _plain(self.app.model_dump(exclude_none=True, exclude={
            "require_if_match"} if self.app.require_if_match else None))
        for section in ("entities", "rules", "flows"):
            for item in data.get(section, {}).values():
                item.pop("name", None)
        return data


def _plain(value: Any) -> Any:
    """Python data as JSON data, exact decimals kept as numbers."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value
