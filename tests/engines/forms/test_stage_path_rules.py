"""The rules of movement along a stage path, decided without a database: which stages'
requirements a record at a stage meets, which a move must meet (none backwards, only its
own for a lost stage, everything for a won one), what a record still needs, what emptying
a field breaks, and time limits in words."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from loom.engines.expressions import Env
from loom.engines.forms.stages import StagePath, compile_stage_paths, describe_duration
from loom.engines.timing import parse_duration
from loom.metamodel.validation import parse_document

STAGES = [
    {"value": "new", "category": "open", "key_fields": ["contact"]},
    {"value": "qualified", "category": "open", "key_fields": ["budget", "need"]},
    {"value": "proposal", "category": "open",
     "key_conditions": [{"label": "a big enough budget",
                         "condition": {">=": [{"var": "budget"}, 1000]}}]},
    {"value": "won", "category": "won", "key_fields": ["signed_on"]},
    {"value": "lost", "category": "lost", "key_fields": ["reason"]},
]
ENV = Env.at(datetime(2026, 11, 2, tzinfo=UTC), ZoneInfo("Asia/Shanghai"))


def path() -> StagePath:
    doc = parse_document({"app": {"label": "Deals"}, "entities": {"deal": {
        "label": "Deal", "fields": {
            "contact": {"type": "text"}, "budget": {"type": "integer"},
            "need": {"type": "text"}, "signed_on": {"type": "date"},
            "reason": {"type": "text"},
            "stage": {"type": "select", "options": STAGES},
            "plain": {"type": "select", "options": [{"value": "a"}]}}}}})
    [found] = compile_stage_paths(doc, "deal")  # a select without SOP is no stage path
    return found


def values(stages: list[Any]) -> list[str]:
    return [stage.value for stage in stages]


def test_a_stage_needs_what_every_open_stage_before_it_needs() -> None:
    stages = path()
    assert values(stages.required_at("new")) == []
    assert values(stages.required_at("proposal")) == ["new", "qualified"]
    assert values(stages.required_at("won")) == ["new", "qualified", "proposal", "won"]
    assert values(stages.required_at("lost")) == ["lost"]  # lost passes over nothing
    assert values(stages.required_at("nonsense")) == []


def test_moves_back_cost_nothing_and_reopening_costs_what_the_stage_costs() -> None:
    stages = path()
    assert values(stages.required_for_move("proposal", "new")) == []
    assert values(stages.required_for_move("proposal", "proposal")) == []
    assert values(stages.required_for_move(None, "qualified")) == ["new"]  # a new record
    assert values(stages.required_for_move("lost", "qualified")) == ["new"]
    assert values(stages.required_for_move("won", "lost")) == ["lost"]
    assert values(stages.ahead("qualified")) == ["new", "qualified"]
    assert values(stages.ahead("won")) == []


def test_unmet_names_fields_and_conditions_and_who_is_entered() -> None:
    stages = path()
    record = {"contact": "张伟", "budget": 500, "need": ""}
    unmet = stages.unmet(stages.required_at("won"), "won", record, ENV)
    assert [(u.stage.value, u.fields, [c.label for c in u.conditions], u.entering)
            for u in unmet] == [
        ("qualified", ("need",), [], False),
        ("proposal", (), ["a big enough budget"], False),
        ("won", ("signed_on",), [], True)]
    assert stages.unmet(stages.required_at("proposal"), "proposal",
                        {**record, "need": "ERP"}, ENV) == []


def test_emptying_a_key_field_the_stage_needs_is_found() -> None:
    stages = path()
    record = {"contact": None, "budget": None, "need": "ERP"}
    assert [(u.stage.value, u.fields) for u in stages.emptied(
        "proposal", record, {"contact", "budget"})] == [("new", ("contact",)),
                                                       ("qualified", ("budget",))]
    assert stages.emptied("new", record, {"contact"}) == []  # needed only to leave it


def test_time_limits_in_words() -> None:
    assert describe_duration(parse_duration("P7D"), "zh-CN") == "7 天"
    assert describe_duration(parse_duration("P1DT12H"), "en") == "1 day 12 hours"
    assert describe_duration(parse_duration("PT30M"), "en") == "30 minutes"
    assert describe_duration(parse_duration("P1M"), "zh-CN") == "1 个月"
    assert describe_duration(parse_duration("P2W"), "en") == "14 days"
    assert path().stage("qualified").time_limit is None  # a stage without a limit
