"""Stage paths as readers get them: the stages of each stage-path field in order, with what
to do in each, the key fields and conditions to meet before moving past it and its time
limit, in the reader's language. Pure: the caller says which fields the reader may see;
the path of a hidden field and hidden key fields are left out. The web app draws the
stage path (the "sales path" of the record page) from this."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loom.engines.forms.stages import FINAL_CATEGORIES, describe_duration
from loom.engines.timing import parse_duration
from loom.metamodel.entity import EntitySpec
from loom.metamodel.fields import Option
from loom.metamodel.i18n import localize

FieldTest = Callable[[str], bool]


def stage_paths(spec: EntitySpec, readable: FieldTest, locale: str) -> list[dict[str, Any]]:
    """Every stage path of the entity the reader may see."""
    return [stage_path(spec, name, readable, locale) for name, field in spec.fields.items()
            if field.is_stage_path and readable(name)]


def stage_path(spec: EntitySpec, name: str, readable: FieldTest,
               locale: str) -> dict[str, Any]:
    field = spec.fields[name]
    return {"field": name, "label": localize(spec.field_label(name), locale),
            "stages": [_stage(spec, option, readable, locale) for option in field.options or []]}


def key_field(spec: EntitySpec, name: str, locale: str) -> dict[str, Any]:
    return {"name": name, "label": localize(spec.field_label(name), locale)}


def _stage(spec: EntitySpec, option: Option, readable: FieldTest,
           locale: str) -> dict[str, Any]:
    limit = option.time_limit
    return {
        "value": option.value, "label": localize(option.label, locale) or option.value,
        "category": option.category, "final": option.category in FINAL_CATEGORIES,
        "guidance": localize(option.guidance, locale) if option.guidance else None,
        "key_fields": [key_field(spec, name, locale) for name in option.key_fields or []
                       if readable(name)],
        "key_conditions": [{"label": localize(c.label, locale)}
                           for c in option.key_conditions or []],
        "time_limit": limit,
        "time_limit_text": describe_duration(parse_duration(limit), locale) if limit else None,
    }
