"""Coercion of every field type (engines/field_values/coercion.py): what a person, a client or a CSV
cell may send, the typed value it becomes, and the message key of what is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loom.engines.field_values.coercion import (
    MAX_ID,
    BadValue,
    coerce,
    is_blank,
    is_record_id,
    to_json,
)
from loom.metamodel.fields import FieldSpec

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPTIONS = [{"value": "new"}, {"value": "won"}, {"value": "lost"}]


def spec(kind: str, **attributes: Any) -> FieldSpec:
    return FieldSpec.model_validate({"type": kind, **attributes})


GOOD: list[tuple[FieldSpec, Any, Any]] = [
    (spec("text"), "  华为  ", "华为"),
    (spec("text", max_length=3), "abc", "abc"),
    (spec("textarea"), "  two\nlines  ", "  two\nlines  "),
    (spec("rich_text"), " <b>x</b> ", " <b>x</b> "),
    (spec("email"), " li@example.com ", "li@example.com"),
    (spec("phone"), "+86 (010) 1234-5678", "+86 (010) 1234-5678"),
    (spec("phone"), 13800138000, "13800138000"),
    (spec("url"), "http://example.com", "http://example.com"),
    (spec("select", options=OPTIONS), "won", "won"),
    (spec("multiselect", options=OPTIONS), "new；won, new", ["new", "won"]),
    (spec("multiselect", options=OPTIONS), ["lost", "lost"], ["lost"]),
    (spec("integer"), "1,234", 1234),
    (spec("integer"), "１２", 12),
    (spec("integer"), Decimal("5.000"), 5),
    (spec("integer"), 7.0, 7),
    (spec("integer", min=-5, max=5), -5, -5),
    (spec("integer"), 10**18 - 1, 10**18 - 1),
    (spec("decimal"), "0.1", Decimal("0.1000")),
    (spec("decimal"), 0.1, Decimal("0.1000")),  # a float means what it prints as
    (spec("decimal", scale=0), "12", Decimal("12")),
    (spec("currency"), "1，234.50", Decimal("1234.50")),
    (spec("currency"), "-0.01", Decimal("-0.01")),
    (spec("currency"), Decimal("99999999999999.99"), Decimal("99999999999999.99")),
    (spec("percent"), "12.5", Decimal("12.50")),
    (spec("decimal", digits=5, scale=2), "999.99", Decimal("999.99")),
    (spec("boolean"), "是", True), (spec("boolean"), "Yes", True), (spec("boolean"), 1, True),
    (spec("boolean"), "否", False), (spec("boolean"), "0", False),
    (spec("boolean"), False, False), (spec("boolean"), "", None),
    (spec("date"), "2024-02-29", date(2024, 2, 29)),
    (spec("date"), "2024/02/29", date(2024, 2, 29)),
    # as a Chinese spreadsheet writes them (written.py)
    (spec("date"), "2025/8/12", date(2025, 8, 12)), (spec("date"), "2025-8-12", date(2025, 8, 12)),
    (spec("date"), "2025.8.12", date(2025, 8, 12)),
    (spec("date"), "2025年8月12日", date(2025, 8, 12)),
    (spec("date"), "２０２５年８月１２日", date(2025, 8, 12)),
    (spec("date"), "20250812", date(2025, 8, 12)),
    (spec("date"), "2025/8/12 0:00", date(2025, 8, 12)),
    (spec("datetime"), "2025/8/12 9:05", datetime(2025, 8, 12, 1, 5, tzinfo=UTC)),
    (spec("datetime"), "2025-8-12 21:05:30", datetime(2025, 8, 12, 13, 5, 30, tzinfo=UTC)),
    (spec("datetime"), "2025年8月12日 下午3:05", datetime(2025, 8, 12, 7, 5, tzinfo=UTC)),
    (spec("datetime"), "2025/8/12 9:05 PM", datetime(2025, 8, 12, 13, 5, tzinfo=UTC)),
    (spec("datetime"), "2025/8/12", datetime(2025, 8, 11, 16, tzinfo=UTC)),
    (spec("datetime"), "2025/8/12 9:05 +00:00", datetime(2025, 8, 12, 9, 5, tzinfo=UTC)),
    (spec("currency"), "1,234.50", Decimal("1234.50")),
    (spec("currency"), "¥1,234.50", Decimal("1234.50")),
    (spec("currency"), "￥1,234.50", Decimal("1234.50")),
    (spec("currency"), "1,234.50元", Decimal("1234.50")),
    (spec("currency"), "-¥5", Decimal("-5.00")),
    (spec("currency"), "(1,234.50)", Decimal("-1234.50")),
    (spec("currency"), "1.2万元", Decimal("12000.00")),
    (spec("currency", currency="USD"), "$1,234.50", Decimal("1234.50")),
    (spec("decimal"), "１２３４．５", Decimal("1234.5000")),
    (spec("integer"), "3亿", 300_000_000),
    (spec("percent"), "12.5%", Decimal("12.50")), (spec("percent"), "８％", Decimal("8.00")),
    (spec("boolean"), "√", True), (spec("boolean"), "×", False),
    (spec("datetime"), "2026-01-02 09:30", datetime(2026, 1, 2, 1, 30, tzinfo=UTC)),
    (spec("datetime"), "2026-01-02T09:30:00+09:00", datetime(2026, 1, 2, 0, 30, tzinfo=UTC)),
    (spec("datetime"), "2026-01-02T01:30:00Z", datetime(2026, 1, 2, 1, 30, tzinfo=UTC)),
    (spec("datetime"), datetime(2026, 1, 2, 9, 30), datetime(2026, 1, 2, 1, 30, tzinfo=UTC)),
    (spec("lookup", ref="customer"), 12, 12),
    (spec("lookup", ref="customer"), "12", 12),
    (spec("lookup", ref="customer"), {"id": 12, "name": "x"}, 12),
    (spec("user"), "Li@Example.com", "Li@Example.com"),  # resolved by the pipeline
    (spec("department"), "销售部", "销售部"),
    (spec("rating"), 0, 0), (spec("rating", max_rating=10), "10", 10),
    (spec("file"), {"name": "a.pdf", "key": "k", "extra": 1}, [{"name": "a.pdf", "key": "k"}]),
    (spec("image"), [{"name": "p.png", "url": "https://x/p.png", "size": 3}],
     [{"name": "p.png", "url": "https://x/p.png", "size": 3}]),
    (spec("signature"), "data:image/png;base64,AA==", {"image": "data:image/png;base64,AA=="}),
    (spec("signature"), {"key": "sig-1", "signer": "李"}, {"key": "sig-1", "signer": "李"}),
    (spec("address"), {"city": "深圳", "street": "路"}, {"city": "深圳", "street": "路"}),
    (spec("location"), {"lat": "22.5", "lng": -180, "address": "x", "zoom": 3},
     {"lat": Decimal("22.5"), "lng": Decimal(-180), "address": "x"}),
    (spec("json"), {"a": [1, None]}, {"a": [1, None]}),
    (spec("json"), " spaced ", " spaced "),
    (spec("formula", formula="1", returns="decimal"), "1.5", Decimal("1.5000")),
]


@pytest.mark.parametrize(("field", "given", "expected"), GOOD,
                         ids=[f"{f.type.value}-{g!r}"[:40] for f, g, _ in GOOD])
def test_good_values(field: FieldSpec, given: Any, expected: Any) -> None:
    value = coerce(field, given, tz=SHANGHAI)
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(expected, Decimal):  # the field's scale, exactly
        assert value.as_tuple().exponent == expected.as_tuple().exponent


BAD: list[tuple[FieldSpec, Any, str]] = [
    (spec("text"), 12, "not_text"), (spec("text"), ["x"], "not_text"),
    (spec("text", max_length=3), "abcd", "too_long"),
    (spec("text"), "x" * 100_001, "too_long"),
    (spec("text"), "a\x00b", "nul_character"), (spec("textarea"), "\x00", "nul_character"),
    (spec("email"), "li@", "not_an_email"), (spec("email"), "a b@c.d", "not_an_email"),
    (spec("phone"), "123", "not_a_phone"), (spec("phone"), "电话", "not_a_phone"),
    (spec("phone"), True, "not_text"),
    (spec("url"), "www.example.com", "not_a_url"), (spec("url"), "https://", "not_a_url"),
    (spec("url"), "file:///etc/passwd", "not_a_url"),
    (spec("select", options=OPTIONS), "Won", "not_an_option"),
    (spec("select", options=OPTIONS), 1, "not_text"),
    (spec("multiselect", options=OPTIONS), ["new", "x"], "not_an_option"),
    (spec("multiselect", options=OPTIONS), {"new": True}, "not_a_list"),
    (spec("integer"), 1.5, "not_an_integer"), (spec("integer"), "1.5", "not_an_integer"),
    (spec("integer"), True, "not_an_integer"), (spec("integer"), "NaN", "not_an_integer"),
    (spec("integer"), "Infinity", "not_an_integer"), (spec("integer"), [1], "not_an_integer"),
    (spec("integer"), 10**18, "too_large"), (spec("integer"), "1e30", "too_large"),
    (spec("integer", min=0), -1, "too_small"), (spec("integer", max=9), 10, "too_large"),
    (spec("decimal"), "0.00001", "too_many_digits"),
    (spec("decimal"), 0.30000000000000004, "too_many_digits"),
    (spec("currency"), "1e16", "too_many_digits"),
    (spec("decimal", digits=5, scale=2), "1000", "too_many_digits"),
    (spec("decimal"), "1e-999999", "too_many_digits"),
    (spec("decimal"), "abc", "not_a_number"), (spec("decimal"), "sNaN", "not_a_number"),
    (spec("decimal"), float("inf"), "not_a_number"), (spec("currency"), False, "not_a_number"),
    (spec("percent", min=0, max=100), "100.01", "too_large"),
    (spec("boolean"), "maybe", "not_boolean"), (spec("boolean"), 2, "not_boolean"),
    (spec("boolean"), [], "not_boolean"),
    (spec("date"), "2023-02-29", "not_a_date"), (spec("date"), "02/03/2026", "not_a_date"),
    # day and month orders, two-digit years: ambiguous, never guessed
    (spec("date"), "8/12/2025", "not_a_date"), (spec("date"), "12/8/2025", "not_a_date"),
    (spec("date"), "25/8/12", "not_a_date"), (spec("date"), "2025/8/12 9:05", "not_a_date"),
    (spec("date"), "2025-8-123", "not_a_date"),
    (spec("datetime"), "8/12/2025 9:05", "not_a_datetime"),
    (spec("datetime"), "2025/8/12 25:00", "not_a_datetime"),
    # grouping that is no thousands grouping (1,23; 1.234,50) and marks of other kinds
    (spec("decimal"), "1,23", "not_a_number"), (spec("decimal"), "1.234,50", "not_a_number"),
    (spec("currency"), "$1,234.50", "not_a_number"),
    (spec("currency", currency="USD"), "¥1,234.50", "not_a_number"),
    (spec("decimal"), "¥12", "not_a_number"), (spec("decimal"), "12%", "not_a_number"),
    (spec("integer"), "12%", "not_an_integer"),
    (spec("date"), datetime(2026, 1, 1), "not_a_date"), (spec("date"), 20260101, "not_a_date"),
    (spec("datetime"), "2026-13-01 00:00", "not_a_datetime"),
    (spec("datetime"), 1767225600, "not_a_datetime"),
    (spec("lookup", ref="c"), 1.5, "not_a_record_id"), (spec("lookup", ref="c"), True,
                                                        "not_a_record_id"),
    (spec("lookup", ref="c"), {"name": "x"}, "not_a_record_id"),
    # ids a 64-bit key cannot hold, or that no row has, and text where an id belongs
    (spec("lookup", ref="c"), 2**63, "not_a_record_id"),
    (spec("lookup", ref="c"), 406848403479656726528, "not_a_record_id"),
    (spec("lookup", ref="c"), "406848403479656726528", "not_a_record_id"),
    (spec("lookup", ref="c"), 0, "not_a_record_id"),
    (spec("lookup", ref="c"), -3, "not_a_record_id"),
    (spec("lookup", ref="c"), "C-1", "not_a_record_id"),
    (spec("lookup", ref="c"), "2025-01-01T00:00:00", "not_a_record_id"),
    (spec("user"), 2**64, "not_a_record_id"), (spec("department"), -1, "not_a_record_id"),
    # instants that could not be shown in every time zone
    (spec("datetime"), "0001-01-01T00:00:00", "moment_out_of_range"),
    (spec("datetime"), "9999-12-31T23:00:00-14:00", "moment_out_of_range"),
    (spec("datetime"), "9999-12-31T23:59:59Z", "moment_out_of_range"),
    (spec("user"), "a\x00@b.c", "nul_character"),
    (spec("rating"), 6, "rating_range"), (spec("rating"), -1, "rating_range"),
    (spec("rating"), 2.5, "rating_range"), (spec("rating", max_rating=3), 4, "rating_range"),
    (spec("file"), "a.pdf", "not_a_list"), (spec("file"), [{"name": "a.pdf"}], "not_an_object"),
    (spec("image"), [{"url": "https://x"}], "not_an_object"),
    (spec("signature"), {"signer": "李"}, "not_an_object"), (spec("signature"), 1,
                                                             "not_an_object"),
    (spec("address"), {"city": 1}, "not_an_object"), (spec("address"), "深圳", "not_an_object"),
    (spec("location"), {"lat": 0}, "bad_location"),
    (spec("location"), {"lat": -90.1, "lng": 0}, "bad_location"),
    (spec("location"), [22, 114], "bad_location"),
]


@pytest.mark.parametrize(("field", "given", "key"), BAD,
                         ids=[f"{f.type.value}-{g!r}"[:40] for f, g, _ in BAD])
def test_bad_values(field: FieldSpec, given: Any, key: str) -> None:
    with pytest.raises(BadValue) as refused:
        coerce(field, given, tz=SHANGHAI)
    assert refused.value.key == key


@pytest.mark.parametrize("kind", ["text", "integer", "decimal", "date", "datetime", "select",
                                  "multiselect", "lookup", "user", "file", "address",
                                  "location", "signature", "json", "boolean", "rating"])
def test_blanks_are_none(kind: str) -> None:
    field = spec(kind, options=OPTIONS) if "select" in kind else (
        spec(kind, ref="c") if kind == "lookup" else spec(kind))
    for blank in (None, "", "   ", [], {}):
        if kind == "json" and blank == "   ":
            continue  # JSON keeps its text as is
        if kind == "boolean" and blank in ([], {}):
            continue  # a list is no answer to a yes/no question: refused, see BAD
        assert coerce(field, blank) is None, (kind, blank)
    assert is_blank(None) and is_blank("") and is_blank([]) and is_blank({})
    assert not is_blank(0) and not is_blank(False) and not is_blank(" ")


def test_wall_clock_times_are_read_in_the_given_zone() -> None:
    field = spec("datetime")
    new_york = ZoneInfo("America/New_York")
    assert coerce(field, "2026-07-01 12:00", tz=new_york) == datetime(2026, 7, 1, 16,
                                                                      tzinfo=UTC)
    assert coerce(field, "2026-01-01 12:00", tz=new_york) == datetime(2026, 1, 1, 17,
                                                                      tzinfo=UTC)
    # without a zone at all, the platform's default is Shanghai
    assert coerce(field, "2026-01-01 08:00") == datetime(2026, 1, 1, tzinfo=UTC)


def test_record_ids() -> None:
    assert is_record_id(1) and is_record_id(MAX_ID)
    for value in (0, -1, MAX_ID + 1, True, "1", 1.0, None):
        assert not is_record_id(value), value


def test_json_of_stored_values() -> None:
    moment = datetime(2026, 1, 2, 9, 30, tzinfo=SHANGHAI)
    assert to_json(moment) == "2026-01-02T01:30:00Z"
    assert to_json(date(2026, 1, 2)) == "2026-01-02"
    assert to_json(Decimal("0.10")) == Decimal("0.10")
    assert to_json(["x"]) == ["x"]
