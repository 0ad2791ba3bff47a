"""How a figure is shown: the format hint that goes with every number (integer, currency with
its code and decimals, percent, days, date), so a page draws it without knowing the
metadata."""

from __future__ import annotations

from typing import Any

from loom.engines.expressions import Scope, compile_formula
from loom.engines.expressions.scope import ValueType
from loom.metamodel.entity import SYSTEM_FIELDS
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import localize
from loom.platform.compiled.app import AppRuntime

AVERAGE_SCALE = 2


def number_format(runtime: AppRuntime, entity: str, aggregate: str, field: str | None,
                  expression: str | None, explicit: str | None, unit: Any,
                  locale: str) -> dict[str, Any]:
    """The format hint of one measure's values."""
    hint = _derived(runtime, entity, aggregate, field, expression)
    if explicit is not None:
        hint["type"] = explicit
        if explicit in ("integer", "days") and aggregate != "avg":
            hint.pop("scale", None)
    if unit is not None:
        hint["unit"] = localize(unit, locale)
    return hint


def _derived(runtime: AppRuntime, entity: str, aggregate: str, field: str | None,
             expression: str | None) -> dict[str, Any]:
    if aggregate in ("count", "count_distinct"):
        return {"type": "integer"}
    if expression:
        kind = compile_formula(expression, Scope.for_entity(runtime.doc, entity)).type
        if kind is ValueType.INTEGER or kind is ValueType.BOOLEAN:
            return {"type": "number", "scale": AVERAGE_SCALE} if aggregate == "avg" \
                else {"type": "integer"}
        if kind.temporal:
            return {"type": kind.value}
        return {"type": "number", "scale": AVERAGE_SCALE}
    spec = runtime.entity(entity).fields.get(field or "")
    kind = SYSTEM_FIELDS.get(field or "") if spec is None else spec.storage_type()
    if kind in (FieldType.DATE, FieldType.DATETIME):
        return {"type": kind.value}
    if spec is not None and kind in (FieldType.CURRENCY, FieldType.DECIMAL, FieldType.PERCENT):
        scale = max(spec.decimal_scale(), AVERAGE_SCALE) if aggregate == "avg" \
            else spec.decimal_scale()
        hint: dict[str, Any] = {"type": {FieldType.CURRENCY: "currency",
                                         FieldType.PERCENT: "percent"}.get(kind, "number"),
                                "scale": scale}
        if kind is FieldType.CURRENCY:
            hint["currency"] = spec.currency or "CNY"
        return hint
    if aggregate == "avg":
        return {"type": "number", "scale": AVERAGE_SCALE}
    return {"type": "integer"}


def percent_format(scale: int) -> dict[str, Any]:
    return {"type": "percent", "scale": scale}
