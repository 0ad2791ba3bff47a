"""JSON out: exact decimals (money never goes through a binary float), ISO dates, Chinese
text as is."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import simplejson
from fastapi.responses import JSONResponse

from loom.engines.field_values.coercion import to_json


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return to_json(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(content: Any) -> bytes:
    return simplejson.dumps(content, use_decimal=True, ensure_ascii=False, default=_default,
                            separators=(",", ":")).encode("utf-8")


class LoomJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)


class ProblemResponse(LoomJSONResponse):
    media_type = "application/problem+json"


