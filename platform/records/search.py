"""Quick search of a list (``?q=华为``): the records where any short text the reader may read
— names, codes, phones, emails, serial numbers — contains the words typed, ignoring case.

It narrows the same ``list_records`` query as a filter does, so reach and hidden fields
apply as everywhere else: a hidden field is never searched, so a search cannot probe what a
reader may not see. Each word must match some field (``华为 深圳`` finds 华为 in the name and
深圳 in the address). Text fields that are long by nature (notes, rich text) are left out:
a quick search looks up a record, it does not read documents.
"""

from __future__ import annotations

from sqlalchemy import Table, and_, false, or_
from sqlalchemy.sql import ColumnElement

from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import BadRequest, Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import Message, message, register_messages
from loom.platform.security.permissions import Access

SEARCHED_TYPES = frozenset({FieldType.TEXT, FieldType.EMAIL, FieldType.PHONE, FieldType.URL,
                            FieldType.SERIAL})
MAX_SEARCH = 200
MAX_WORDS = 5

register_messages({
    "search_too_long": {"en": "q may be at most {max} characters",
                        "zh-CN": "搜索内容 q 最多 {max} 个字符"},
    "search_too_many_words": {"en": "q may have at most {max} words",
                              "zh-CN": "搜索内容 q 最多 {max} 个词"},
})


def searched_fields(spec: EntitySpec, access: Access) -> list[str]:
    """The fields a search of ``spec`` looks in, for this reader."""
    return [name for name, field in spec.fields.items()
            if field.type in SEARCHED_TYPES and access.can_read(name)]


def search_clause(spec: EntitySpec, table: Table, access: Access,
                  text: str) -> ColumnElement[bool] | None:
    """The WHERE clause of a search for ``text``; None when there is nothing to look for."""
    if len(text) > MAX_SEARCH:
        raise _refused(message("search_too_long", max=MAX_SEARCH))
    words = text.split()
    if not words:
        return None
    if len(words) > MAX_WORDS:
        raise _refused(message("search_too_many_words", max=MAX_WORDS))
    columns = [table.c[name] for name in searched_fields(spec, access)]
    if not columns:
        return false()
    # icontains: ILIKE on PostgreSQL, lower() LIKE lower() elsewhere; % and _ typed by the
    # reader are matched as themselves
    return and_(*(or_(*(column.icontains(word, autoescape=True) for column in columns))
                  for word in words))


def _refused(why: Message) -> BadRequest:
    return BadRequest(why, [Problem("q", why, "invalid")])
