"""A recipe naming what the app does not have, or a generator that does not fit its field,
is refused with every problem, each with its path and a message in the reader's language."""

from __future__ import annotations

from typing import Any

import pytest

from loom.engines.demo import parse_recipe
from loom.metamodel.errors import MetadataInvalid
from loom.metamodel.validation import parse_document

DOC = parse_document({
    "app": {"label": "Shop"},
    "entities": {
        "customer": {"label": "Customer", "fields": {"name": {"type": "text", "required": True},
                                "phone": {"type": "phone"},
                                "level": {"type": "select", "options": [
                                    {"value": "a"}, {"value": "b"}]},
                                "spend": {"type": "rollup", "rollup": {
                                    "entity": "order", "link_field": "customer",
                                    "function": "sum", "field": "amount"}}}},
        "order": {"label": "Order", "fields": {"customer": {"type": "lookup", "ref": "customer",
                                          "required": True},
                             "amount": {"type": "currency"},
                             "on": {"type": "date"}}},
    },
    "roles": {"clerk": {"permissions": {}}},
})


def refused(recipe: dict[str, Any], locale: str = "en") -> dict[str, str]:
    with pytest.raises(MetadataInvalid) as caught:
        parse_recipe(recipe, DOC)
    return {p.render(locale)["field"]: p.render(locale)["message"]
            for p in caught.value.problems}


def test_a_good_recipe_passes() -> None:
    recipe = parse_recipe({"steps": [
        {"name": "customers", "entity": "customer", "count": {"small": 3, "large": 30},
         "fields": {"name": {"gen": "company_name"}, "phone": {"gen": "mobile"},
                    "level": {"gen": "choice", "options": {"a": 3, "b": 1}}}},
        {"name": "orders", "entity": "order", "per": "customers",
         "each": {"distribution": "geometric", "mean": 3, "max": 20}, "moment": "on",
         "fields": {"customer": {"gen": "parent"}, "on": {"gen": "date", "days_ago": [0, 90]},
                    "amount": {"gen": "number", "min": 10, "max": 900}}}]}, DOC)
    assert [s.name for s in recipe.steps] == ["customers", "orders"]


def test_every_problem_is_named_with_its_path() -> None:
    problems = refused({
        "users": {"password": "long-enough-pw", "groups": [
            {"name": "reps", "manager": "bosses", "roles": ["clerk", "auditor"]}]},
        "steps": [
            {"name": "ghosts", "entity": "ghost", "count": 1},
            {"name": "customers", "entity": "customer", "count": 2, "moment": "name",
             "fields": {"name": {"gen": "person_name"},
                        "phone": {"gen": "number"},
                        "level": {"gen": "choice", "options": ["a", "z"]},
                        "spend": {"gen": "number"},
                        "wechat": {"gen": "text"}}},
            {"name": "orders", "entity": "order", "per": "clients",
             "fields": {"customer": {"gen": "ref", "entity": "order"},
                        "amount": {"gen": "split", "of": "parent.total"},
                        "on": {"gen": "date", "after": "delivered_on"}}},
            {"name": "more", "entity": "order", "count": 1,
             "fields": {"customer": {"gen": "parent"}, "amount": {"gen": "user",
                                                                 "groups": ["x"]}}},
        ]})
    assert problems == {
        "users.groups[0].manager": "There is no user group 'bosses' (before this one)",
        "users.groups[0].roles": "There is no role 'auditor' in this app",
        "steps[0].entity": "There is no entity 'ghost' in this app",
        "steps[1].moment": "The moment must be a date or datetime field of 'customer'",
        "steps[1].fields.phone.gen": "The generator 'number' does not fit a field of type "
                                     "'phone' (it fits: currency, decimal, integer, percent, "
                                     "rating)",
        "steps[1].fields.level.options": "'z' is not an option of this field (options: a, b)",
        "steps[1].fields.spend": "'spend' is computed by the platform; a recipe cannot fill it",
        "steps[1].fields.wechat": "Entity 'customer' has no field 'wechat'",
        "steps[2].per": "There is no earlier step 'clients'",
        "steps[2].fields.customer.entity": "The field refers to 'customer', not to 'order'",
        "steps[2].fields.amount": "'parent' needs a step with 'per'",
        "steps[2].fields.on": "Entity 'order' has no field 'delivered_on'",
        "steps[3].fields.customer": "'parent' needs a step with 'per'",
        "steps[3].fields.amount.gen": "The generator 'user' does not fit a field of type "
                                      "'currency' (it fits: user)",
    }


def test_messages_speak_chinese_too() -> None:
    problems = refused({"steps": [{"name": "orders", "entity": "order", "count": 1,
                                   "fields": {"amount": {"gen": "mobile"}}}]}, "zh-CN")
    assert problems == {
        "steps[0].fields.amount.gen": "生成器“mobile”不适用于类型为“currency”的字段"
                                      "（适用于：phone, text）",
        "steps[0].fields": "“customer”为必填且没有默认值，配方必须填写它"}


def test_a_malformed_recipe_is_refused_readably() -> None:
    problems = refused({"steps": [{"name": "x", "entity": "order", "count": 1,
                                   "fields": {"amount": {"gen": "dice"}}}]})
    assert list(problems) == ["steps[0].fields.amount"]
    assert "'dice'" in problems["steps[0].fields.amount"]
    assert "person_name" in problems["steps[0].fields.amount"]  # what it could have been
    problems = refused({"steps": [{"name": "x", "entity": "order"}]}, "zh-CN")
    assert problems == {"steps[0]": "格式不正确：Value error, give exactly one of count, "
                                    "per (with each) or existing"}
