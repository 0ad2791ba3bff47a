"""Message templates of rules: a value shown as people read it still compares and computes
as itself; a blank reads as nothing; a template in a language falls back as labels do."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from loom.engines.rules.templates import render, shown


def test_a_shown_value_prints_as_words_and_behaves_as_itself() -> None:
    context = {
        "source": shown("website", "官网"),
        "amount": shown(Decimal("1200.50"), "¥1,200.50"),
        "vip": shown(True, "是"),
        "count": shown(3, "3"),
        "met_on": shown(date(2026, 11, 3), "2026-11-03"),
        "at": shown(datetime(2026, 11, 2, 1, 30, tzinfo=UTC), "2026-11-02 09:30"),
        "tags": shown(["vip", "hot"], "重要、热门"),
        "owner": shown(7, "张伟"),
    }
    text = ("{{ source }}|{% if source == 'website' %}W{% endif %}|{{ amount }}|"
            "{{ amount * 2 }}|{{ vip }}|{% if vip %}Y{% endif %}|{{ met_on }}|"
            "{{ met_on.year }}|{{ at }}|{{ tags }}|{{ tags | length }}|"
            "{% if 'vip' in tags %}V{% endif %}|{{ owner }}|{{ owner == 7 }}|"
            "{{ source ~ '!' }}|{{ count + 1 }}")
    assert render(text, context, "zh-CN") == (
        "官网|W|¥1,200.50|2401.00|是|Y|2026-11-03|2026|2026-11-02 09:30|重要、热门|2|V|"
        "张伟|True|官网!|4")
    assert shown(None, "x") is None
    assert shown({"a": 1}, "x") == {"a": 1}  # no words for an object: itself


def test_a_blank_reads_as_nothing() -> None:
    assert render("负责人：{{ owner }}。", {"owner": None}, "zh-CN") == "负责人：。"
    assert render("{% if owner is none %}无人{% endif %}", {"owner": None}, "zh-CN") == "无人"


def test_the_language_and_its_fallback() -> None:
    text = {"zh-CN": "你好 {{ name }}", "en": "Hello {{ name }}"}
    assert render(text, {"name": "Ann"}, "en") == "Hello Ann"
    assert render({"zh-CN": "你好 {{ name }}"}, {"name": "Ann"}, "en") == "你好 Ann"
    # the sandbox keeps Python's insides out of reach; a fault shows the text as written
    assert render("{{ name.__class__ }}", {"name": "Ann"}, "en") == ""
    assert render("{{ name | no_such_filter }}", {"name": "Ann"}, "en") == \
        "{{ name | no_such_filter }}"
