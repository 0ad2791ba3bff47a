"""What every request must be before any route reads it, and the text a request body may
carry. The database sets two bounds no route should have to remember: a NUL character
(U+0000) is in no name, id, filter or word a person writes, and PostgreSQL text cannot
hold one — refused at the door; ids are 64-bit integers, so a path id is declared with
``RowId`` (a record id beyond the range is simply not found, by the records layer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from pydantic import AfterValidator

from loom.engines.field_values.coercion import MAX_ID
from loom.metamodel.errors import BadRequest


async def sane_address(request: Request) -> None:
    """A FastAPI dependency of every route: the path and the query hold no %00 (400).
    Async, though it awaits nothing: FastAPI runs a plain function in a thread."""
    parts = [*request.path_params.values(), *request.query_params.keys(),
             *request.query_params.values()]
    if any("\x00" in str(part) for part in parts):
        raise BadRequest("The address contains a NUL character (%00)")


# The id of a platform row (task, flow instance, user, token…) in a path: a 64-bit integer.
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="An id")]


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (U+0000)")
    return value


# A text field of a request body that is stored or looked up: refused (422) with a NUL.
StoredText = Annotated[str, AfterValidator(_without_nul)]
