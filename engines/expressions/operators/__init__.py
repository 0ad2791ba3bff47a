"""The operators of the language, one module per family; importing this registers them."""

from loom.engines.expressions.operators import (  # noqa: F401
    arithmetic,
    arrays,
    compare,
    crm,
    data,
    dates,
    lists,
    logic,
    related,
    text,
)
