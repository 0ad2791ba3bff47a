"""Texts kept for readers to come: stored as JSON once, read in whichever language the
reader has — plain text, a localized text, a catalog message whose parameters are
themselves texts of any kind."""

from __future__ import annotations

import json

from loom.metamodel.i18n import (
    in_every_locale,
    message,
    register_messages,
    render_text,
    stored_text,
)


def test_plain_and_localized_texts_keep_their_shape() -> None:
    assert stored_text(None) is None and render_text(None, "en") == ""
    assert stored_text("跟进") == "跟进" and render_text("跟进", "en") == "跟进"
    label = {"zh-CN": "审核", "en": "Review"}
    assert stored_text(label) == label
    assert (render_text(label, "zh-CN"), render_text(label, "en")) == ("审核", "Review")
    assert render_text({"zh-CN": "只有中文"}, "en") == "只有中文"  # falls back as labels do


register_messages({
    "test_text_overdue": {"en": "Overdue: {title}", "zh-CN": "已逾期：{title}"},
    "test_text_copy": {"en": "CC: {label}", "zh-CN": "抄送：{label}"},
})


def test_a_message_is_kept_as_its_key_and_parameters() -> None:
    label = {"zh-CN": "审核", "en": "Review"}
    kept = stored_text(message("test_text_overdue", title=message("test_text_copy",
                                                                  label=label)))
    assert json.loads(json.dumps(kept)) == kept  # plain JSON, for a JSON column
    assert kept == {"message": "test_text_overdue", "params": {
        "title": {"message": "test_text_copy", "params": {"label": label}}}}
    assert render_text(kept, "zh-CN") == "已逾期：抄送：审核"
    assert render_text(kept, "en") == "Overdue: CC: Review"
    assert stored_text(kept) == kept  # storing a stored text changes nothing
    numbers = stored_text(message("too_large", label={"zh-CN": "金额", "en": "Amount"},
                                  max=100))
    assert render_text(numbers, "en") == "Amount must be at most 100"
    assert render_text(numbers, "zh-CN") == "金额不能大于 100"


def test_in_every_locale() -> None:
    assert in_every_locale(lambda locale: f"<{locale}>") == {"zh-CN": "<zh-CN>", "en": "<en>"}
