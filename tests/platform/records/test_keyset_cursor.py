"""Sort keys and cursors (engines/query/keyset.py), without a database: what a sort text
means, and that a cursor gives back exactly the values it was made from — or is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from loom.engines.query.keyset import SortKey, decode_cursor, encode_cursor, parse_sort
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import BadRequest

ENTITY = EntitySpec.model_validate({"label": {"zh-CN": "分录", "en": "Entry"}, "fields": {
    "memo": {"type": "text"}, "rank": {"type": "integer"}, "amount": {"type": "currency"},
    "booked": {"type": "date"}, "at": {"type": "datetime"}, "paid": {"type": "boolean"},
    "party": {"type": "lookup", "ref": "party"}, "owner": {"type": "user"},
    "status": {"type": "select", "options": [{"value": "draft"}]},
    "tags": {"type": "multiselect", "options": [{"value": "x"}]}, "extra": {"type": "json"},
    "lines": {"type": "subtable", "entity": "line", "link_field": "entry"},
    "place": {"type": "location"}}})


def test_sort_texts() -> None:
    assert parse_sort(None, ENTITY) == [SortKey("id")]
    assert parse_sort("", ENTITY) == [SortKey("id")]
    assert parse_sort("-amount, memo", ENTITY) == [
        SortKey("amount", True), SortKey("memo"), SortKey("id")]
    assert parse_sort("+rank,,-created_at", ENTITY) == [
        SortKey("rank"), SortKey("created_at", True), SortKey("id")]
    # id is unique: it ends the keys, whatever follows
    assert parse_sort("-id,memo", ENTITY) == [SortKey("id", True)]
    assert parse_sort("memo,id", ENTITY) == [SortKey("memo"), SortKey("id")]


@pytest.mark.parametrize("sort", ["nope", "-nope", "tags", "extra", "lines", "place", "-"])
def test_sorts_that_cannot_be(sort: str) -> None:
    with pytest.raises(BadRequest):
        parse_sort(sort, ENTITY)


ROW = {"id": 7, "memo": "华为 \"quoted\"", "rank": -3, "amount": Decimal("0.30"),
       "booked": date(2026, 2, 28), "at": datetime(2026, 1, 2, 1, 30, tzinfo=UTC),
       "paid": False, "party": 12, "owner": 1, "status": "draft", "version": 3,
       "created_at": datetime(2026, 1, 1, tzinfo=UTC), "created_by": None}


@pytest.mark.parametrize("sort", ["memo", "-rank", "amount,-booked", "-at,paid", "party,owner",
                                  "status,-version", "created_at,created_by", "-id"])
def test_cursors_give_back_their_values(sort: str) -> None:
    keys = parse_sort(sort, ENTITY)
    cursor = encode_cursor(keys, ROW)
    assert "=" not in cursor and cursor.isascii()
    assert decode_cursor(cursor, keys, ENTITY) == [ROW[key.field] for key in keys]
    blanks = {**ROW, **{key.field: None for key in keys if key.field != "id"}}
    assert decode_cursor(encode_cursor(keys, blanks), keys, ENTITY) == [
        blanks[key.field] for key in keys]


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(("sort", "cursor"), [
    ("memo", "garbage!"), ("memo", ""), ("memo", _cursor([1])), ("memo", _cursor({"v": []})),
    ("memo", _cursor({"s": "memo,id", "v": ["a"]})),
    ("memo", _cursor({"s": "-memo,id", "v": ["a", 1]})),
    ("memo", _cursor({"s": "memo,id", "v": ["a\x00", 1]})),
    ("rank", _cursor({"s": "rank,id", "v": [1.5, 1]})),
    ("amount", _cursor({"s": "amount,id", "v": ["0.001", 1]})),
    ("booked", _cursor({"s": "booked,id", "v": ["2026-02-30", 1]})),
    ("paid", _cursor({"s": "paid,id", "v": ["perhaps", 1]})),
    ("party", _cursor({"s": "party,id", "v": ["华为", 1]})),
    ("party", _cursor({"s": "party,id", "v": [2**63, 1]})),
    ("owner", _cursor({"s": "owner,id", "v": [0, 1]})),
    ("version", _cursor({"s": "version,id", "v": [2**31, 1]})),
    ("status", _cursor({"s": "status,id", "v": ["gone", 1]})),
    ("memo", _cursor({"s": "memo,id", "v": ["a", 10**18]})),
    ("memo", _cursor({"s": "memo,id", "v": ["a", {"id": 1}]})),
])
def test_cursors_that_are_refused(sort: str, cursor: str) -> None:
    with pytest.raises(BadRequest) as refused:
        decode_cursor(cursor, parse_sort(sort, ENTITY), ENTITY)
    assert refused.value.render_detail("en") == (
        "The cursor is not valid for this list; start again without it")
