"""Conditions in words (``describe_condition``): what a condition requires, and — given a
record — only the parts it fails, in Chinese and English, over the operators people write
in conditions; an operator without words of its own falls back to the fields it reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from loom.engines.expressions import Env, Scope, compile_condition, describe_condition
from loom.metamodel.app import AppDocument

DOC = AppDocument.model_validate({
    "app": {"label": "t"},
    "entities": {
        "lead": {"label": {"zh-CN": "线索", "en": "Lead"}, "fields": {
            "name": {"type": "text", "label": {"zh-CN": "姓名", "en": "Name"}},
            "owner": {"type": "user", "label": {"zh-CN": "负责人", "en": "Owner"}},
            "status": {"type": "select", "label": {"zh-CN": "状态", "en": "Status"},
                       "options": [
                           {"value": "new", "label": {"zh-CN": "新线索", "en": "New"}},
                           {"value": "won", "label": {"zh-CN": "赢单", "en": "Won"}},
                           {"value": "lost", "label": {"zh-CN": "输单", "en": "Lost"}},
                           {"value": "raw"}]},
            "tags": {"type": "multiselect", "label": {"zh-CN": "标签", "en": "Tags"},
                     "options": [{"value": "vip", "label": {"zh-CN": "重要", "en": "VIP"}},
                                 {"value": "hot", "label": {"zh-CN": "热门", "en": "Hot"}}]},
            "amount": {"type": "currency", "label": {"zh-CN": "金额", "en": "Amount"}},
            "vip": {"type": "boolean", "label": {"zh-CN": "贵宾", "en": "VIP customer"}},
            "met_on": {"type": "date", "label": {"zh-CN": "会面日期", "en": "Met on"}},
            "customer": {"type": "lookup", "ref": "customer",
                         "label": {"zh-CN": "客户", "en": "Customer"}}}},
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
            "name": {"type": "text"},
            "region": {"type": "select", "label": {"zh-CN": "区域", "en": "Region"},
                       "options": [{"value": "east", "label": {"zh-CN": "华东",
                                                               "en": "East China"}}]}}}},
    "roles": {"manager": {"label": {"zh-CN": "经理", "en": "Manager"}},
              "rep": {"label": {"zh-CN": "销售", "en": "Sales rep"}}},
})
SCOPE = Scope.for_entity(DOC, "lead")
NOW = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)


def words(rule: Any, data: Any = None, env: Env | None = None) -> tuple[str, str]:
    described = describe_condition(compile_condition(rule, SCOPE), SCOPE, data, env)
    return described["zh-CN"], described["en"]


V = {"var": "status"}


@pytest.mark.parametrize(("rule", "zh", "en"), [
    ({"is_blank": {"var": "owner"}}, "负责人必须为空", "Owner must be blank"),
    ({"!": {"is_blank": {"var": "owner"}}}, "负责人不能为空", "Owner must not be blank"),
    ({"!!": {"is_blank": {"var": "owner"}}}, "负责人必须为空", "Owner must be blank"),
    ({"==": [V, "won"]}, "状态必须为赢单", "Status must be Won"),
    ({"===": ["won", V]}, "状态必须为赢单", "Status must be Won"),  # literal first
    ({"!=": [V, "lost"]}, "状态不能为输单", "Status must not be Lost"),
    ({"!==": [V, "raw"]}, "状态不能为raw", "Status must not be raw"),  # no label: value
    ({"==": [V, "gone"]}, "状态必须为“gone”", 'Status must be "gone"'),  # not an option
    ({"==": [{"var": "owner"}, None]}, "负责人必须为空", "Owner must be blank"),
    ({"!=": [{"var": "owner"}, None]}, "负责人不能为空", "Owner must not be blank"),
    ({"==": [{"var": "owner"}, {"current_user": "id"}]}, "负责人必须为您本人",
     "Owner must be you"),
    ({"==": [{"var": "name"}, "Acme"]}, "姓名必须为“Acme”", 'Name must be "Acme"'),
    ({"==": [{"var": "vip"}, True]}, "贵宾必须为是", "VIP customer must be Yes"),
    ({">": [{"var": "amount"}, 100000]}, "金额必须大于100000",
     "Amount must be greater than 100000"),
    ({">=": [{"var": "amount"}, 5]}, "金额不能小于5", "Amount must be at least 5"),
    ({"<": [{"var": "amount"}, 5]}, "金额必须小于5", "Amount must be less than 5"),
    ({"<=": [{"var": "amount"}, 5]}, "金额不能大于5", "Amount must be at most 5"),
    ({"<": [100, {"var": "amount"}]}, "金额必须大于100", "Amount must be greater than 100"),
    ({"!": {"<": [{"var": "amount"}, 5]}}, "金额不能小于5", "Amount must be at least 5"),
    ({"<=": [1, {"var": "amount"}, 10]}, "金额必须介于1和10之间",
     "Amount must be between 1 and 10"),
    ({"!": {"<": [1, {"var": "amount"}, 10]}}, "金额不能介于1和10之间",
     "Amount must not be between 1 and 10"),
    ({"in": [V, ["new", "won"]]}, "状态必须是以下之一：新线索、赢单",
     "Status must be one of: New, Won"),
    ({"!": {"in": [V, ["won", "lost"]]}}, "状态不能是以下任何一项：赢单、输单",
     "Status must be none of: Won, Lost"),
    ({"in": [V, ["new"]]}, "状态必须为新线索", "Status must be New"),
    ({"in": ["Co", {"var": "name"}]}, "姓名必须包含“Co”", 'Name must contain "Co"'),
    ({"includes": [{"var": "tags"}, "vip"]}, "标签必须包含重要", "Tags must contain VIP"),
    ({"!": {"includes": [{"var": "tags"}, ["vip", "hot"]]}}, "标签不能包含重要或热门",
     "Tags must not contain VIP or Hot"),
    ({"starts_with": [{"var": "name"}, "A"]}, "姓名必须以“A”开头", 'Name must start with "A"'),
    ({"changed": "status"}, "状态必须在本次保存中修改", "Status must change in this save"),
    ({"!": {"changed": "status"}}, "状态不能在本次保存中修改",
     "Status must not change in this save"),
    ({"==": [{"prior": "status"}, "new"]}, "修改前的状态必须为新线索",
     "the previous Status must be New"),
    ({"changed": ["status", "owner"]}, "状态或负责人必须在本次保存中修改",
     "Status or Owner must change in this save"),
    ({"has_role": ["manager", "rep"]}, "您必须具有经理或销售角色",
     "you must have the role Manager or Sales rep"),
    ({"!": {"has_role": "admin"}}, "您不能具有admin角色", "you must not have the role admin"),
    ({"var": "vip"}, "贵宾必须为是", "VIP customer must be Yes"),
    ({"!": {"var": "vip"}}, "贵宾必须为否", "VIP customer must be No"),
    ({"var": "owner"}, "负责人不能为空", "Owner must not be blank"),
    ({"missing": ["owner", "name"]}, "负责人和姓名必须为空", "Owner and Name must be blank"),
    ({"!": {"missing": ["owner"]}}, "负责人不能为空", "Owner must not be blank"),
    ({"==": [{"var": "customer.region"}, "east"]}, "客户 › 区域必须为华东",
     "Customer › Region must be East China"),
    ({">": [{"days_since": {"var": "met_on"}}, 3]}, "距会面日期的天数必须大于3",
     "the days since Met on must be greater than 3"),
    ({"<": [{"var": "met_on"}, {"today": []}]}, "会面日期必须小于今天",
     "Met on must be less than today"),
    ({"==": [{"len": {"var": "name"}}, 0]}, "姓名的长度必须为0",
     "the length of Name must be 0"),
    ({"or": [{"is_blank": {"var": "owner"}}, {"has_role": "manager"}]},
     "负责人必须为空，或您必须具有经理角色",
     "Owner must be blank, or you must have the role Manager"),
    ({"!": {"and": [{"is_blank": {"var": "owner"}}, {"==": [V, "new"]}]}},
     "负责人不能为空，或状态不能为新线索", "Owner must not be blank, or Status must not be New"),
    ({"!": {"or": [{"is_blank": {"var": "owner"}}, {"==": [V, "new"]}]}},
     "负责人不能为空；状态不能为新线索", "Owner must not be blank; Status must not be New"),
    ({"and": [{"is_blank": {"var": "owner"}}, {"or": [{"==": [V, "new"]},
                                                       {"var": "vip"}]}]},
     "负责人必须为空；状态必须为新线索，或贵宾必须为是",
     "Owner must be blank; Status must be New, or VIP customer must be Yes"),
])
def test_what_a_condition_requires(rule: Any, zh: str, en: str) -> None:
    assert words(rule) == (zh, en)


@pytest.mark.parametrize(("rule", "zh", "en"), [
    # operators without words of their own: the fields they read
    ({"==": [{"%": [{"var": "amount"}, 2]}, 0]}, "金额须满足条件",
     "Amount must meet the condition"),
    ({"!": {"some": [{"var": "tags"}, {"==": [{"var": ""}, "vip"]}]}}, "标签不能满足条件",
     "Tags must not meet the condition"),
    ({">": [{"+": [{"var": "amount"}, {"var": "vip"}]}, {"var": "name"}]},
     "金额、贵宾、姓名须满足条件", "Amount, VIP customer, Name must meet the condition"),
    (True, "须满足条件", "the condition must hold"),
    ({"!": True}, "不能满足条件", "the condition must not hold"),
])
def test_a_generic_sentence_for_operators_without_words(rule: Any, zh: str, en: str) -> None:
    assert words(rule) == (zh, en)


def test_given_a_record_only_the_failing_parts_are_named() -> None:
    rule = {"and": [{"is_blank": {"var": "owner"}},
                    {"!": {"in": [V, ["won", "lost"]]}},
                    {">": [{"var": "amount"}, 100]}]}
    env = Env.at(NOW, UTC)
    assert words(rule, {"owner": 3, "status": "new", "amount": 500}, env) == (
        "负责人必须为空", "Owner must be blank")
    assert words(rule, {"owner": None, "status": "won", "amount": 5}, env) == (
        "状态不能是以下任何一项：赢单、输单；金额必须大于100",
        "Status must be none of: Won, Lost; Amount must be greater than 100")
    # an "or" that fails offers every way out; a "not or" names the part that holds
    either = {"or": [{"==": [{"var": "owner"}, {"current_user": "id"}]},
                     {"has_role": "manager"}]}
    me = Env.at(NOW, UTC, user={"id": 7, "roles": ["rep"]})
    assert words({"and": [{"!=": [V, "won"]}, either]}, {"owner": 3, "status": "new"}, me)[1] \
        == "Owner must be you, or you must have the role Manager"
    neither = {"!": {"or": [{"is_blank": {"var": "owner"}}, {"==": [V, "won"]}]}}
    assert words(neither, {"owner": None, "status": "new"}, env)[1] == "Owner must not be blank"


def test_a_scope_is_optional() -> None:
    described = describe_condition(compile_condition({"is_blank": {"var": "owner"}}), None)
    assert described == {"zh-CN": "owner必须为空", "en": "owner must be blank"}
