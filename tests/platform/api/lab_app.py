"""The records API's test app ``lab`` (published by the fixture ``lab`` in conftest.py): a
sample entity with one field of every writable type, and customers referenced in every way a
lookup can be (restrict, set null, cascade, line items)."""

from __future__ import annotations

from typing import Any

import httpx

LAB = "/api/apps/lab/records"


def label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def lab_document() -> dict[str, Any]:
    options = [{"value": "new", "label": label("新建", "New")},
               {"value": "won", "label": label("赢单", "Won")}]
    return {
        "app": {"label": label("实验室", "Lab"), "timezone": "Asia/Shanghai"},
        "entities": {
            "customer": {"label": label("客户", "Customer"), "fields": {
                "name": {"type": "text", "label": label("名称", "Name"), "required": True,
                         "unique": True},
                "region": {"type": "text", "label": label("区域", "Region")},
                "short_name": {"type": "text", "label": label("简称", "Short name"),
                               "unique": True}}},
            # a contact may not lose its customer (restrict, the default)
            "contact": {"label": label("联系人", "Contact"), "fields": {
                "name": {"type": "text", "label": label("姓名", "Name")},
                "customer": {"type": "lookup", "ref": "customer",
                             "label": label("所属客户", "Customer")}}},
            "note": {"label": label("备注", "Note"), "fields": {
                "text": {"type": "text", "label": label("内容", "Text")},
                "customer": {"type": "lookup", "ref": "customer", "on_delete": "set_null",
                             "label": label("客户", "Customer")}}},
            "visit": {"label": label("拜访", "Visit"), "fields": {
                "topic": {"type": "text", "label": label("主题", "Topic")},
                "customer": {"type": "lookup", "ref": "customer", "on_delete": "cascade",
                             "label": label("客户", "Customer")}}},
            # a visit's report keeps its visit (restrict), even when the visit would go
            # with its customer
            "visit_report": {"label": label("拜访报告", "Visit report"), "fields": {
                "summary": {"type": "text", "label": label("摘要", "Summary")},
                "visit": {"type": "lookup", "ref": "visit", "label": label("拜访", "Visit")}}},
            "contract": {"label": label("合同", "Contract"), "fields": {
                "title": {"type": "text", "label": label("标题", "Title"), "required": True},
                "number": {"type": "serial", "format": "HT-{YYYY}{MM}-{seq:4}",
                           "label": label("合同编号", "Contract number")},
                "lines": {"type": "subtable", "entity": "contract_line",
                          "link_field": "contract", "label": label("明细", "Lines")}}},
            "contract_line": {"label": label("合同明细", "Contract line"), "fields": {
                "contract": {"type": "lookup", "ref": "contract",
                             "label": label("合同", "Contract")},
                "amount": {"type": "currency", "label": label("金额", "Amount")}}},
            "sample": {"label": label("样品", "Sample"), "fields": {
                "title": {"type": "text", "label": label("标题", "Title"), "required": True,
                          "max_length": 20},
                "code": {"type": "text", "label": label("代码", "Code"), "unique": True},
                "notes": {"type": "textarea", "label": label("说明", "Notes")},
                "body": {"type": "rich_text", "label": label("正文", "Body")},
                "quantity": {"type": "integer", "label": label("数量", "Quantity"),
                             "min": 0, "max": 1000},
                "weight": {"type": "decimal", "label": label("重量", "Weight")},
                "price": {"type": "currency", "label": label("价格", "Price"),
                          "currency": "CNY"},
                "discount": {"type": "percent", "label": label("折扣", "Discount")},
                "active": {"type": "boolean", "label": label("有效", "Active")},
                "due": {"type": "date", "label": label("到期日", "Due date")},
                "meeting": {"type": "datetime", "label": label("会议时间", "Meeting")},
                "stage": {"type": "select", "label": label("阶段", "Stage"),
                          "options": options},
                "tags": {"type": "multiselect", "label": label("标签", "Tags"),
                         "options": [{"value": "vip"}, {"value": "hot"}, {"value": "new"}]},
                "email": {"type": "email", "label": label("邮箱", "Email")},
                "phone": {"type": "phone", "label": label("电话", "Phone")},
                "website": {"type": "url", "label": label("网站", "Website")},
                "owner": {"type": "user", "label": label("负责人", "Owner")},
                "department": {"type": "department", "label": label("部门", "Department")},
                "customer": {"type": "lookup", "ref": "customer",
                             "label": label("客户", "Customer"), "on_delete": "set_null"},
                "attachments": {"type": "file", "label": label("附件", "Attachments")},
                "photo": {"type": "image", "label": label("照片", "Photo")},
                "signature": {"type": "signature", "label": label("签名", "Signature")},
                "address": {"type": "address", "label": label("地址", "Address")},
                "location": {"type": "location", "label": label("位置", "Location")},
                "rating": {"type": "rating", "label": label("评分", "Rating")},
                "extra": {"type": "json", "label": label("扩展", "Extra")},
                "locked": {"type": "text", "label": label("锁定", "Locked"),
                           "readonly": True},
                "level": {"type": "select", "label": label("等级", "Level"),
                          "options": [{"value": "a"}, {"value": "b"}], "default": "b"}}},
        },
    }


async def create(api: httpx.AsyncClient, entity: str, data: Any,
                 **headers: str) -> dict[str, Any]:
    response = await api.post(f"{LAB}/{entity}", json=data, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def errors_by_field(body: dict[str, Any]) -> dict[str | None, list[dict[str, Any]]]:
    found: dict[str | None, list[dict[str, Any]]] = {}
    for error in body["errors"]:
        found.setdefault(error["field"], []).append(error)
    return found
