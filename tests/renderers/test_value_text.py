"""Values as a person reads them in a sentence: options by label in their language, yes/no,
times in the app's zone, amounts with their currency and separators."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from loom.metamodel.fields import FieldSpec
from loom.renderers.values import value_text

SHANGHAI = ZoneInfo("Asia/Shanghai")
SOURCE = FieldSpec.model_validate({"type": "select", "options": [
    {"value": "website", "label": {"zh-CN": "官网", "en": "Website"}},
    {"value": "fair", "label": {"zh-CN": "展会", "en": "Trade fair"}},
    {"value": "bare"}]})
TAGS = FieldSpec.model_validate({"type": "multiselect", "options": [
    {"value": "vip", "label": {"zh-CN": "重要", "en": "VIP"}},
    {"value": "hot", "label": {"zh-CN": "热门", "en": "Hot"}}]})


@pytest.mark.parametrize(("field", "value", "zh", "en"), [
    (SOURCE, "website", "官网", "Website"),
    (SOURCE, "bare", "bare", "bare"),          # an option without a label: its value
    (SOURCE, "gone", "gone", "gone"),          # no longer an option: as stored
    (TAGS, ["vip", "hot"], "重要、热门", "VIP, Hot"),
    (TAGS, [], "", ""),
    ({"type": "boolean"}, True, "是", "Yes"),
    ({"type": "boolean"}, False, "否", "No"),
    ({"type": "currency"}, Decimal("1234567.5"), "¥1,234,567.50", "¥1,234,567.50"),
    ({"type": "currency", "currency": "USD"}, Decimal("-80"), "-$80.00", "-$80.00"),
    ({"type": "currency", "currency": "CHF", "scale": 0}, Decimal("1200"), "CHF 1,200",
     "CHF 1,200"),
    ({"type": "decimal", "scale": 3}, Decimal("0.5"), "0.500", "0.500"),
    ({"type": "percent"}, Decimal("30.00"), "30%", "30%"),
    ({"type": "percent"}, Decimal("12.50"), "12.5%", "12.5%"),
    ({"type": "integer"}, 2026, "2026", "2026"),
    ({"type": "date"}, date(2026, 11, 3), "2026-11-03", "2026-11-03"),
    ({"type": "datetime"}, datetime(2026, 11, 2, 17, 30, tzinfo=UTC), "2026-11-03 01:30",
     "2026-11-03 01:30"),
    ({"type": "text"}, "张三", "张三", "张三"),
    ({"type": "text"}, None, "", ""),
    (None, True, "是", "Yes"),
])
def test_value_text(field: FieldSpec | dict, value: object, zh: str, en: str) -> None:
    spec = FieldSpec.model_validate(field) if isinstance(field, dict) else field
    assert value_text(spec, value, "zh-CN", SHANGHAI) == zh
    assert value_text(spec, value, "en", SHANGHAI) == en
