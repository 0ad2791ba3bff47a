"""A small app for the expression tests: leads with a customer lookup, line items and
follow-ups."""

from __future__ import annotations

from typing import Any

from loom.metamodel.app import AppDocument


def field(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, **extra}


def crm_app() -> AppDocument:
    return AppDocument.model_validate({
        "app": {"label": "CRM"},
        "entities": {
            "lead": {
                "label": {"zh-CN": "线索", "en": "Lead"},
                "fields": {
                    "name": field("text", label={"zh-CN": "名称", "en": "Name"}),
                    "amount": field("currency", scale=2),
                    "quantity": field("integer"),
                    "score": field("decimal", scale=4),
                    "stage": field("select", options=[{"value": "new"}, {"value": "won"},
                                                      {"value": "lost"}]),
                    "tags": field("multiselect", options=[{"value": "vip"}]),
                    "close_date": field("date"),
                    "contacted_at": field("datetime"),
                    "hot": field("boolean"),
                    "owner": field("user"),
                    "customer": field("lookup", ref="customer"),
                    "items": field("subtable", entity="line_item", link_field="lead"),
                    "total": field("formula", formula="SUM(items.amount)", returns="currency"),
                },
            },
            "customer": {
                "label": {"zh-CN": "客户", "en": "Customer"},
                "fields": {"name": field("text"), "region": field("text"),
                           "level": field("integer")},
            },
            "line_item": {
                "label": "Line item",
                "fields": {"lead": field("lookup", ref="lead"), "amount": field("currency")},
            },
            "follow_up": {
                "label": "Follow-up",
                "fields": {"opportunity": field("lookup", ref="lead"), "kind": field("text"),
                           "minutes": field("integer")},
            },
        },
    })
