"""The app ``sales`` for rule engine tests: leads routed to teams, opportunities,
contracts and customers, with rules over them, and lead buttons (claim from the pool,
release back to it)."""

from __future__ import annotations

import copy
from typing import Any

SALES: dict[str, Any] = {
    "app": {"label": {"zh-CN": "销售", "en": "Sales"}},
    "entities": {
        "team": {"label": {"zh-CN": "团队", "en": "Team"}, "fields": {
            "code": {"type": "text", "unique": True},
            "name": {"type": "text"},
            "manager": {"type": "user"},
            "members": {"type": "json"}}},
        "lead": {"label": {"zh-CN": "线索", "en": "Lead"}, "fields": {
            "name": {"type": "text", "required": True},
            "company": {"type": "text"},
            "region": {"type": "select", "options": [
                {"value": "east_china", "label": {"zh-CN": "华东区", "en": "East China"}},
                {"value": "north_china", "label": {"zh-CN": "华北区", "en": "North China"}}]},
            "team": {"type": "lookup", "ref": "team"},
            "owner": {"type": "user"},
            "status": {"type": "select", "options": [{"value": "new"}, {"value": "qualified"},
                                                     {"value": "converted"}]},
            "tags": {"type": "multiselect", "options": [{"value": "vip"}, {"value": "hot"}]},
            "grade": {"type": "text"},
            "next_follow_up": {"type": "date"},
            "meeting_at": {"type": "datetime"},
            "converted_customer": {"type": "lookup", "ref": "customer",
                                   "on_delete": "set_null"}},
            "actions": {
                "claim": {"label": {"zh-CN": "领取", "en": "Claim"},
                          "condition": {"is_blank": {"var": "owner"}},
                          "steps": [{"type": "set_field", "field": "owner",
                                     "value": {"current_user": "id"}},
                                    {"type": "create_task", "assignee": {"kind": "actor"},
                                     "title": {"zh-CN": "跟进 {{ name }}",
                                               "en": "Follow up {{ name }}"}}]},
                "release": {"label": {"zh-CN": "退回公海", "en": "Release"},
                            "condition": {"==": [{"var": "owner"}, {"current_user": "id"}]},
                            "steps": [{"type": "set_field", "field": "owner", "value": None},
                                      {"type": "tag", "remove": ["hot"]}]}}},
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
            "name": {"type": "text", "required": True},
            "tag": {"type": "select", "options": [{"value": "prospect"}, {"value": "formal"}]},
            "owner": {"type": "user"},
            "email": {"type": "email"}}},
        "contact": {"label": {"zh-CN": "联系人", "en": "Contact"}, "fields": {
            "name": {"type": "text", "required": True},
            "customer": {"type": "lookup", "ref": "customer"}}},
        "contract": {"label": {"zh-CN": "合同", "en": "Contract"}, "fields": {
            "customer": {"type": "lookup", "ref": "customer", "required": True},
            "amount": {"type": "currency"},
            "status": {"type": "select", "options": [{"value": "draft"}, {"value": "signed"}]}}},
    },
    "rules": {},
}


def sales_app(rules: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(SALES)
    document["rules"] = rules
    return document
