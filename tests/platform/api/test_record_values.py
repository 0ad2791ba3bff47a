"""Every field type through the records API: good values are stored and read back as the
same JSON on both databases, bad ones are refused with a message naming the field in the
reader's language, and blanks are blank."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
from fixture_kit import if_match, problem_of
from lab_app import LAB, create, errors_by_field, lab_document

SAMPLE = f"{LAB}/sample"
LABELS = {name: field["label"]
          for name, field in lab_document()["entities"]["sample"]["fields"].items()}


def exact(response: httpx.Response) -> Any:
    """The body with numbers as written (no trip through binary floats)."""
    return json.loads(response.text, parse_float=Decimal)


async def _people(api: httpx.AsyncClient) -> tuple[int, int]:
    """A user in the department 销售部; returns (user id, department id)."""
    created = await api.post("/api/users", json={
        "email": "li.lei@example.com", "name": "李雷", "password": "password-123",
        "department": "销售部"})
    assert created.status_code == 201, created.text
    sample = await create(api, "sample", {"title": "probe", "department": "销售部"})
    return created.json()["id"], sample["department"]


async def test_good_values_are_stored_and_read_back_exactly(lab: httpx.AsyncClient) -> None:
    user_id, department_id = await _people(lab)
    customer = await create(lab, "customer", {"name": "华为"})
    sent = {
        "title": "  华为 Mate  ", "code": "S-1", "notes": "  第一行\n第二行  ",
        "body": "<p>你好</p>", "quantity": "1,000", "weight": "0.1", "price": "0.20",
        "discount": 12.5, "active": "是", "due": "2026/02/28",
        "meeting": "2026-01-02 09:30", "stage": "won", "tags": "vip, hot，vip",
        "email": "li@example.com", "phone": "+86 138-0013-8000",
        "website": "https://example.com/a?b=1", "owner": "LI.LEI@example.com",
        "department": "销售部", "customer": {"id": customer["id"]},
        "attachments": [{"name": "合同.pdf", "url": "https://files/1", "size": 10,
                         "scanned_by": "x"}],
        "photo": {"name": "p.png", "key": "k1"}, "signature": "data:image/png;base64,AA==",
        "address": {"province": "广东", "city": "深圳"},
        "location": {"lat": 22.54, "lng": 114.05, "address": "深圳"},
        "rating": 4, "extra": {"a": [1, 0.1, "x"], "b": None, "c": {"d": True}},
    }
    expected = {
        "title": "华为 Mate", "code": "S-1", "notes": "  第一行\n第二行  ",
        "body": "<p>你好</p>", "quantity": 1000, "weight": Decimal("0.1"),
        "price": Decimal("0.2"), "discount": Decimal("12.5"), "active": True,
        "due": "2026-02-28", "meeting": "2026-01-02T01:30:00Z", "stage": "won",
        "tags": ["vip", "hot"], "email": "li@example.com", "phone": "+86 138-0013-8000",
        "website": "https://example.com/a?b=1", "owner": user_id,
        "department": department_id, "customer": customer["id"],
        "attachments": [{"name": "合同.pdf", "url": "https://files/1", "size": 10}],
        "photo": [{"name": "p.png", "key": "k1"}],
        "signature": {"image": "data:image/png;base64,AA=="},
        "address": {"province": "广东", "city": "深圳"},
        "location": {"lat": Decimal("22.54"), "lng": Decimal("114.05"), "address": "深圳"},
        "rating": 4, "extra": {"a": [1, Decimal("0.1"), "x"], "b": None, "c": {"d": True}},
        "locked": None, "level": "b",
    }
    response = await lab.post(SAMPLE, json=sent)
    assert response.status_code == 201, response.text
    created = exact(response)
    read = exact(await lab.get(f"{SAMPLE}/{created['id']}"))
    for record in (created, read):
        assert {name: record[name] for name in expected} == expected


async def test_decimals_are_exact_and_carry_their_scale(lab: httpx.AsyncClient) -> None:
    # JSON numbers are read as decimals: what a float would round is kept to the cent
    body = '{"title": "money", "price": 1234567890123.45, "weight": 0.3, "discount": 0.1}'
    response = await lab.post(SAMPLE, content=body,
                              headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text
    listed = await lab.get(SAMPLE, params={"fields": "price,weight,discount"})
    for text in (response.text, (await lab.get(response.headers["location"])).text,
                 listed.text):
        assert '"price":1234567890123.45' in text
        assert '"weight":0.3000' in text  # decimal fields keep four places by default
        assert '"discount":0.10' in text
    # 0.1 + 0.2 sent as the float it is in most languages has too many places to keep
    too_precise = await lab.post(SAMPLE, content='{"title": "x", "weight": '
                                 '0.30000000000000004, "price": 0.001}',
                                 headers={"content-type": "application/json",
                                          "accept-language": "en"})
    errors = errors_by_field(problem_of(too_precise, 422))
    assert errors["weight"][0]["code"] == "too_many_digits"
    assert errors["weight"][0]["message"] == (
        "Weight allows 14 digits before and 4 after the decimal point")
    assert errors["price"][0]["message"] == (
        "Price allows 16 digits before and 2 after the decimal point")
    # trailing zeros are not extra places
    fine = await lab.post(SAMPLE, json={"title": "x", "price": "7.500000"})
    assert exact(fine)["price"] == Decimal("7.50")


async def test_datetimes_without_a_zone_are_read_in_the_apps_zone(
        lab: httpx.AsyncClient) -> None:
    given = ["2026-03-01 08:00", "2026-03-01T08:00:00", "2026-03-01T08:00:00+08:00",
             "2026-03-01T00:00:00Z", "2026-02-28T19:00:00-05:00"]
    response = await lab.post(f"{SAMPLE}/_bulk",
                              json=[{"title": "t", "meeting": value} for value in given])
    assert response.status_code == 201, response.text
    meetings = {item["meeting"] for item in response.json()["items"]}
    assert meetings == {"2026-03-01T00:00:00Z"}
    listed = await lab.get(SAMPLE, params={"fields": "meeting"})
    assert {item["meeting"] for item in listed.json()["items"]} == meetings


# Every bad value is refused, each with its own code; the rounds send one bad value per
# field at once, so each round also proves all problems of a record come back together.
BAD_ROUNDS: list[dict[str, tuple[Any, str]]] = [
    {"title": (123, "not_text"), "quantity": (1.5, "not_an_integer"),
     "weight": ("abc", "not_a_number"), "price": ("0.001", "too_many_digits"),
     "discount": (True, "not_a_number"), "active": ("maybe", "not_boolean"),
     "due": ("2026-02-30", "not_a_date"), "meeting": ("tomorrow", "not_a_datetime"),
     "stage": ("lost", "not_an_option"), "tags": (["vip", "cold"], "not_an_option"),
     "email": ("li@example", "not_an_email"), "phone": ("12", "not_a_phone"),
     "website": ("example.com", "not_a_url"), "owner": (True, "not_a_record_id"),
     "attachments": ([{"url": "https://files/1"}], "not_an_object"),
     "photo": ("p.png", "not_a_list"), "signature": (5, "not_an_object"),
     "address": ({"planet": "Mars"}, "not_an_object"),
     "location": ({"lat": 91, "lng": 0}, "bad_location"), "rating": (6, "rating_range"),
     "notes": (["x"], "not_text"), "body": ({"html": "x"}, "not_text")},
    {"title": ("x" * 21, "too_long"), "quantity": (-1, "too_small"),
     "weight": ("1e30", "too_many_digits"), "price": ("10000000000000000", "too_many_digits"),
     "active": (2, "not_boolean"), "due": ("2026-02-03T10:00", "not_a_date"),
     "meeting": (1767225600, "not_a_datetime"), "tags": (5, "not_a_list"),
     "stage": (["won"], "not_text"), "website": ("javascript:alert(1)", "not_a_url"),
     "phone": ("call me", "not_a_phone"), "owner": ([1], "not_a_record_id"),
     "customer": (1.5, "not_a_record_id"), "location": ({"lat": "x"}, "bad_location"),
     "rating": (-1, "rating_range"), "code": ("a\x00b", "nul_character")},
    {"quantity": (1001, "too_large"), "weight": (Decimal("1E-5"), "too_many_digits"),
     "rating": ("five", "rating_range"), "due": (20260203, "not_a_date"),
     "location": ({"lat": 0, "lng": 181}, "bad_location")},
]


async def test_bad_values_are_refused_naming_the_field(lab: httpx.AsyncClient) -> None:
    for bad in BAD_ROUNDS:
        body = {name: value for name, (value, _) in bad.items()}
        if "title" not in body:
            body["title"] = "ok"
        text = json.dumps(body, default=str)
        for locale in ("zh-CN", "en"):
            response = await lab.post(SAMPLE, content=text, headers={
                "content-type": "application/json", "accept-language": locale})
            refused = problem_of(response, 422)
            errors = errors_by_field(refused)
            assert set(errors) == set(bad), refused
            assert str(len(bad)) in refused["detail"]
            for name, (_, code) in bad.items():
                assert len(errors[name]) == 1, errors[name]
                assert errors[name][0]["code"] == code, (name, errors[name])
                assert LABELS[name][locale] in errors[name][0]["message"], errors[name]
    assert (await lab.get(SAMPLE)).json()["items"] == []


async def test_messages_speak_the_readers_language(lab: httpx.AsyncClient) -> None:
    body = {"title": "x", "stage": "lost", "quantity": "many"}
    messages = {}
    for header in ("zh-CN", "en-US,en;q=0.9", "fr, en;q=0.5", "de", None):
        headers = {"accept-language": header} if header else {}
        errors = errors_by_field(problem_of(await lab.post(SAMPLE, json=body,
                                                           headers=headers), 422))
        messages[header] = (errors["stage"][0]["message"], errors["quantity"][0]["message"])
    assert messages["zh-CN"] == ("阶段：“lost”不是可选项（new, won）", "数量必须是整数")
    assert messages["en-US,en;q=0.9"] == (
        "Stage: 'lost' is not one of the options (new, won)",
        "Quantity must be a whole number")
    assert messages["fr, en;q=0.5"] == messages["en-US,en;q=0.9"]
    # without a language we know, the platform's default: Chinese
    assert messages["de"] == messages[None] == messages["zh-CN"]


async def test_blanks_are_blank(lab: httpx.AsyncClient) -> None:
    blanks: dict[str, Any] = {name: "" for name in LABELS if name not in (
        "title", "locked", "level", "extra")}
    blanks.update(tags=[], attachments=[], address={}, location=None, signature={},
                  level=None, extra=None)
    record = await create(lab, "sample", {"title": "blank", **blanks})
    assert all(record[name] is None for name in blanks), record
    # a default applies only where nothing was said; an explicit blank stays blank
    assert (await create(lab, "sample", {"title": "default"}))["level"] == "b"
    # blank text is not a title; spaces alone are blank
    for title in ("", "   ", None):
        refused = problem_of(await lab.post(SAMPLE, json={"title": title},
                                            headers={"accept-language": "en"}), 422)
        assert refused["errors"] == [
            {"field": "title", "message": "Title is required", "code": "required"}]
    # clearing a value with null or "" on update
    changed = await lab.patch(f"{SAMPLE}/{record['id']}", headers=if_match(record),
                              json={"quantity": 3, "stage": "new", "tags": ["hot"]})
    assert changed.status_code == 200, changed.text
    cleared = await lab.patch(f"{SAMPLE}/{record['id']}", headers=if_match(changed.json()),
                              json={"quantity": None, "stage": "", "tags": []})
    assert cleared.status_code == 200, cleared.text
    assert [cleared.json()[name] for name in ("quantity", "stage", "tags")] == [None] * 3


async def test_json_fields_keep_any_json(lab: httpx.AsyncClient) -> None:
    values = [{"nested": {"list": [1, 2.5, "三"], "empty": {}}}, [1, [2, [3]]], "text",
              12, 0.25, True]
    for value in values:
        response = await lab.post(SAMPLE, json={"title": "j", "extra": value})
        assert response.status_code == 201, response.text
        read = await lab.get(response.headers["location"])
        assert read.json()["extra"] == value
