"""Record validation that needs no database: required and conditionally required fields.

Type, option and range checks happen when input is read (``values.coerce``); uniqueness
and references need the database and live in the platform's write pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from loom.engines.field_values.coercion import is_blank
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import message


def missing_required(spec: EntitySpec, record: Mapping[str, Any],
                     condition_holds: Callable[[str], bool] | None = None) -> list[Problem]:
    """A problem for every required field that is blank. ``condition_holds(field)`` says
    whether a field's ``required_if`` condition holds for this record."""
    problems = []
    for name, field in spec.fields.items():
        if field.computed or field.type is FieldType.SUBTABLE:
            continue
        required = field.required or (
            field.required_if is not None and condition_holds is not None
            and condition_holds(name))
        if required and is_blank(record.get(name)):
            problems.append(Problem(name, message("required", label=spec.field_label(name)),
                                    code="required"))
    return problems
