"""The worker runs what is due as of a moment, once, on both databases: schedule rules
(matching records only, once per tick, no backfill, conditions with and without a SQL
form), date-relative rules on date and datetime fields (not before their moment, once per
date value, re-armed when the date moves, missed moments older than catch_up let go),
failures that stop nobody and are retried later, and task reminder / overdue timers.

The clock stands at 2026-11-02T01:30Z, a Monday, 09:30 in Shanghai (the app's zone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rules_api import RECORDS, patch, post, publish, user
from sqlalchemy import select, update

from loom.platform.clock import FixedClock
from loom.platform.rules.moments import value_slot, value_slot_sql
from loom.platform.security.actors import system_actor
from loom.platform.services import Services
from loom.platform.storage.system_tables import notifications, rule_firings, rule_runs, tasks
from loom.platform.storage.system_tables import timers as timer_table
from loom.platform.tasks.store import complete_task
from loom.platform.worker import Worker

DAY = timedelta(days=1)





async def lead(api: httpx.AsyncClient, record_id: int) -> dict[str, Any]:
    response = await api.get(f"{RECORDS}/lead/{record_id}")
    assert response.status_code == 200, response.text
    return response.json()



async def runs(services: Services, rule: str | None = None) -> list[tuple[int, str]]:
    """(record, status) of the rule's traces, oldest first."""
    query = select(rule_runs).order_by(rule_runs.c.id)
    if rule:
        query = query.where(rule_runs.c.rule == rule)
    async with services.database.read() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [(r["record_id"], r["status"]) for r in rows]


async def rules_done(services: Services, as_of: datetime) -> int:
    return (await Worker(services).run_once(as_of)).done["rules"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- schedules --------------------------------------------------------------------------------

NUDGE = {"entity": "lead", "trigger": {"on": "schedule", "cron": "0 9 * * *"},  # 09:00 Shanghai
         "condition": {"==": [{"var": "status"}, "new"]},
         "actions": [{"type": "set_field", "field": "grade", "value": "nudged"},
                     {"type": "tag", "add": ["hot"]}]}


async def test_a_schedule_fires_matching_records_once_per_tick(
        api: httpx.AsyncClient, services: Services, clock: FixedClock, caplog: Any) -> None:
    await publish(api, {"nudge": NUDGE})
    a = await post(api, "lead", {"name": "a", "status": "new"})
    b = await post(api, "lead", {"name": "b", "status": "qualified"})
    c = await post(api, "lead", {"name": "c", "status": "new"})
    now = clock.now()
    with caplog.at_level("INFO", logger="loom.rules.timed"):
        assert await rules_done(services, now) == 2  # the tick of today 09:00
    assert not caplog.records  # selected by SQL, no fallback, nothing failed
    assert [(x["grade"], x["tags"]) for x in [await lead(api, r["id"]) for r in (a, b, c)]] \
        == [("nudged", ["hot"]), (None, None), ("nudged", ["hot"])]
    # the same tick again, at once or an hour later: nothing twice
    assert await rules_done(services, now) == 0
    assert await rules_done(services, now + timedelta(hours=1)) == 0
    assert await runs(services, "nudge") == [(a["id"], "done"), (c["id"], "done")]

    # the next tick fires again, for what matches then
    await patch(api, "lead", a["id"], {"grade": None})
    await patch(api, "lead", c["id"], {"status": "converted", "grade": None})
    assert await rules_done(services, now + DAY) == 1
    assert (await lead(api, a["id"]))["grade"] == "nudged"
    assert (await lead(api, c["id"]))["grade"] is None
    # after days of downtime only the latest tick runs, not one per missed day
    assert await rules_done(services, now + 5 * DAY) == 1
    assert await rules_done(services, now + 5 * DAY) == 0
    async with services.database.read() as conn:
        ticks = (await conn.execute(select(rule_firings.c.slot).where(
            rule_firings.c.record_id == 0).order_by(rule_firings.c.slot))).scalars().all()
    assert ticks == ["2026-11-02T01:00:00Z", "2026-11-03T01:00:00Z", "2026-11-07T01:00:00Z"]
    traces = await runs(services, "nudge")
    assert traces[-2:] == [(a["id"], "done"), (a["id"], "done")] and len(traces) == 4


async def test_a_condition_without_sql_form_is_evaluated_in_python(
        api: httpx.AsyncClient, services: Services, clock: FixedClock,
        caplog: Any) -> None:
    vip = {"entity": "lead", "trigger": {"on": "schedule", "cron": "*/30 * * * *"},
           "condition": {"in": ["vip", {"var": "tags"}]},  # a list field: no SQL form
           "actions": [{"type": "set_field", "field": "grade", "value": "vip"}]}
    await publish(api, {"vip": vip})
    tagged = [await post(api, "lead", {"name": f"v{i}", "tags": ["vip"]}) for i in range(3)]
    plain = await post(api, "lead", {"name": "p", "tags": ["hot"]})
    with caplog.at_level("INFO", logger="loom.rules.timed"):
        assert await rules_done(services, clock.now()) == 3
    assert any("evaluating it in Python" in r.getMessage() for r in caplog.records)
    assert [(await lead(api, r["id"]))["grade"] for r in [*tagged, plain]] == [
        "vip", "vip", "vip", None]
    assert await rules_done(services, clock.now()) == 0


async def test_a_failing_record_stops_nobody_and_is_retried_later(
        api: httpx.AsyncClient, services: Services, clock: FixedClock) -> None:
    # the region comes from the company text: one lead's company is not a region
    regions = {"entity": "lead", "trigger": {"on": "schedule", "cron": "0 9 * * *"},
               "actions": [{"type": "set_field", "field": "region",
                            "value": {"var": "company"}}]}
    await publish(api, {"regions": regions})
    a = await post(api, "lead", {"name": "a", "company": "east_china"})
    bad = await post(api, "lead", {"name": "b", "company": "火星"})
    c = await post(api, "lead", {"name": "c", "company": "north_china"})
    now = clock.now()
    assert await rules_done(services, now) == 2
    assert [(await lead(api, r["id"]))["region"] for r in (a, bad, c)] == [
        "east_china", None, "north_china"]
    assert await runs(services) == [(a["id"], "done"), (bad["id"], "failed"),
                                    (c["id"], "done")]
    async with services.database.read() as conn:
        failed = (await conn.execute(select(rule_runs).where(
            rule_runs.c.status == "failed"))).mappings().one()
        fired = set((await conn.execute(select(rule_firings.c.record_id))).scalars())
    assert "火星" in failed["error"] and failed["trigger"] == "schedule"
    assert fired == {a["id"], c["id"]}  # no firing row left for the failure, no tick mark

    # not retried at once (no flood of traces) …
    assert await rules_done(services, now + timedelta(minutes=5)) == 0
    assert len(await runs(services)) == 3
    # … but once the record is fixed, a later run of the same tick fires it, and only it
    await patch(api, "lead", bad["id"], {"company": "east_china"})
    assert await rules_done(services, now + timedelta(minutes=20)) == 1
    assert (await lead(api, bad["id"]))["region"] == "east_china"
    assert await rules_done(services, now + timedelta(minutes=40)) == 0
    assert (await runs(services))[-1] == (bad["id"], "done")


# --- dates ------------------------------------------------------------------------------------

FOLLOW_UP = {"entity": "lead",
             "trigger": {"on": "date_offset", "field": "next_follow_up", "offset": "P3D",
                         "at": "09:00"},
             "condition": {"!=": [{"var": "status"}, "converted"]},
             "actions": [{"type": "set_field", "field": "grade", "value": "follow_up"}]}


async def test_a_date_rule_fires_at_its_moment_once_and_rearms(
        api: httpx.AsyncClient, services: Services) -> None:
    await publish(api, {"follow_up": FOLLOW_UP})
    due = await post(api, "lead", {"name": "due", "next_follow_up": "2026-11-01"})
    converted = await post(api, "lead", {"name": "won", "next_follow_up": "2026-11-01",
                                         "status": "converted"})
    stale = await post(api, "lead", {"name": "stale", "next_follow_up": "2026-10-20"})
    await post(api, "lead", {"name": "no date"})
    moment = at("2026-11-04T09:00:00+08:00")  # 3 days after, at 09:00 in Shanghai
    assert await rules_done(services, moment - timedelta(minutes=1)) == 0
    assert (await lead(api, due["id"]))["grade"] is None
    assert await rules_done(services, moment) == 1
    assert (await lead(api, due["id"]))["grade"] == "follow_up"
    # once per date value, however often the worker runs during catch_up
    for later in (moment, moment + timedelta(hours=1), moment + 3 * DAY):
        assert await rules_done(services, later) == 0
    assert [(await lead(api, r["id"]))["grade"] for r in (converted, stale)] == [None, None]
    # moving the date re-arms the rule for the new date
    await patch(api, "lead", due["id"], {"next_follow_up": "2026-11-10", "grade": None})
    assert await rules_done(services, at("2026-11-13T08:59:00+08:00")) == 0
    assert await rules_done(services, at("2026-11-13T09:00:00+08:00")) == 1
    assert (await lead(api, due["id"]))["grade"] == "follow_up"
    assert await runs(services, "follow_up") == [(due["id"], "done"), (due["id"], "done")]
    async with services.database.read() as conn:
        slots = (await conn.execute(select(rule_firings.c.slot).order_by(
            rule_firings.c.id))).scalars().all()
    assert slots == ["2026-11-01", "2026-11-10"]


async def test_a_missed_moment_fires_late_within_catch_up_only(
        api: httpx.AsyncClient, services: Services) -> None:
    rule = {**FOLLOW_UP, "trigger": {**FOLLOW_UP["trigger"], "catch_up": "P2D"}}
    await publish(api, {"follow_up": rule})
    recent = await post(api, "lead", {"name": "recent", "next_follow_up": "2026-11-01"})
    old = await post(api, "lead", {"name": "old", "next_follow_up": "2026-10-30"})
    # the worker was down: at 11-05 10:00 recent's moment (11-04 09:00) is a day late,
    # old's (11-02 09:00) more than two days late
    assert await rules_done(services, at("2026-11-05T10:00:00+08:00")) == 1
    assert [(await lead(api, r["id"]))["grade"] for r in (recent, old)] == ["follow_up", None]


MEETING = {"entity": "lead",  # an hour before a meeting, while it is less than an hour late
           "trigger": {"on": "date_offset", "field": "meeting_at", "offset": "-PT1H",
                       "catch_up": "PT1H"},
           "actions": [{"type": "tag", "add": ["hot"]}]}


async def test_a_datetime_rule_fires_before_the_moment(
        api: httpx.AsyncClient, services: Services) -> None:
    await publish(api, {"meeting": MEETING})
    meeting = await post(api, "lead", {"name": "m", "meeting_at": "2026-11-03T15:00:00+08:00"})
    assert await rules_done(services, at("2026-11-03T13:59:59+08:00")) == 0
    assert await rules_done(services, at("2026-11-03T14:00:00+08:00")) == 1
    assert (await lead(api, meeting["id"]))["tags"] == ["hot"]
    assert await rules_done(services, at("2026-11-03T14:30:00+08:00")) == 0
    async with services.database.read() as conn:
        (slot,) = (await conn.execute(select(rule_firings.c.slot))).scalars().all()
    assert slot == "2026-11-03T07:00:00Z"
    # a meeting moved into the past beyond catch_up never fires; moved ahead, fires again
    await patch(api, "lead", meeting["id"], {"meeting_at": "2026-11-03T16:00:00+08:00"})
    assert await rules_done(services, at("2026-11-03T17:30:00+08:00")) == 0
    await patch(api, "lead", meeting["id"], {"meeting_at": "2026-11-04T10:00:00+08:00",
                                             "tags": []})
    assert await rules_done(services, at("2026-11-04T09:10:00+08:00")) == 1
    assert (await lead(api, meeting["id"]))["tags"] == ["hot"]


async def test_slots_read_the_same_in_sql_and_python(
        api: httpx.AsyncClient, services: Services) -> None:
    # "not fired yet" is decided in SQL by comparing slot texts: they must agree
    await publish(api, {})
    values = [("2026-01-31", "2026-11-03T15:00:00+08:00"),
              ("1999-12-31", "2026-03-29T01:59:59.999999+00:00"),
              ("2026-11-02", "2026-11-02T00:00:00-05:00")]
    for day, moment in values:
        await post(api, "lead", {"name": day, "next_follow_up": day, "meeting_at": moment})
    async with services.database.read() as conn:
        runtime = await services.apps.runtime(conn, system_actor(1), "sales")
        table = runtime.tables["lead"]
        dialect = conn.dialect.name
        rows = (await conn.execute(select(
            table.c.next_follow_up, table.c.meeting_at,
            value_slot_sql(table.c.next_follow_up, is_date=True, dialect=dialect),
            value_slot_sql(table.c.meeting_at, is_date=False, dialect=dialect))
            .order_by(table.c.id))).all()
    assert [(day_slot, moment_slot) for _, _, day_slot, moment_slot in rows] == [
        (value_slot(day), value_slot(moment)) for day, moment, _, _ in rows]
    assert [row[3] for row in rows] == ["2026-11-03T07:00:00Z", "2026-03-29T01:59:59Z",
                                        "2026-11-02T05:00:00Z"]


# --- the worker, and task timers --------------------------------------------------------------

TASK = {"entity": "lead", "trigger": {"on": "create"},
        "actions": [{"type": "create_task", "title": {"zh-CN": "跟进 {{ name }}",
                                                      "en": "Follow up {{ name }}"},
                     "assignee": {"kind": "user", "user": "sales@example.com"},
                     "due": "P1D", "remind_before": "PT2H",
                     "escalate_to": {"kind": "user", "user": "boss@example.com"}}]}


async def inbox(services: Services, user_id: int) -> list[str]:
    async with services.database.read() as conn:
        return list((await conn.execute(select(notifications.c.title).where(
            notifications.c.user_id == user_id).order_by(notifications.c.id))).scalars())


async def test_worker_reports_what_each_duty_did(
        api: httpx.AsyncClient, services: Services, clock: FixedClock) -> None:
    sales = await user(api, "sales@example.com")
    notify = {"entity": "lead", "trigger": {"on": "schedule", "cron": "0 9 * * 1"},
              "actions": [{"type": "notify", "to": [{"kind": "user",
                                                     "user": "sales@example.com"}],
                           "title": "每周回顾：{{ name }}"}]}
    await publish(api, {"weekly": notify, "task": TASK})
    await post(api, "lead", {"name": "甲"})
    await post(api, "lead", {"name": "乙"})
    worker = Worker(services)
    idle = {"rules": 0, "jobs": 0, "timers": 0, "flows": 0, "stages": 0, "outbox": 0,
            "identity": 0, "operations": 0, "recycle_bin": 0}
    assert (await worker.run_once(clock.now())).done == {**idle, "rules": 2}
    assert (await worker.run_once(clock.now() + DAY)).done == {**idle, "timers": 4}
    assert (await worker.run_once(clock.now() + DAY)).done == idle
    assert sorted(await inbox(services, sales)) == sorted([
        "每周回顾：甲", "每周回顾：乙", "提醒：跟进 甲", "提醒：跟进 乙", "已逾期：跟进 甲",
        "已逾期：跟进 乙"])


async def test_task_timers_notify_once_and_stop_when_the_task_closes(
        api: httpx.AsyncClient, services: Services, clock: FixedClock) -> None:
    sales = await user(api, "sales@example.com")
    boss = await user(api, "boss@example.com", locale="en")
    await publish(api, {"task": TASK})
    first = await post(api, "lead", {"name": "张三"})
    second = await post(api, "lead", {"name": "李四"})
    third = await post(api, "lead", {"name": "王五"})
    async with services.database.read() as conn:
        made = {row["record_id"]: row for row in
                (await conn.execute(select(tasks))).mappings()}
    assert made[first["id"]]["due_at"] == clock.now() + DAY
    # the second task is done before anything is due: its timers are cancelled with it
    async with services.database.write() as conn:
        await complete_task(conn, 1, made[second["id"]]["id"], sales, clock.now())
        # the third is closed some other way: the worker finds out when its timer is due
        await conn.execute(update(tasks).where(tasks.c.id == made[third["id"]]["id"])
                           .values(status="cancelled"))
    worker = Worker(services)
    remind = clock.now() + DAY - timedelta(hours=2)
    assert (await worker.run_once(remind - timedelta(seconds=1))).done["timers"] == 0
    assert (await worker.run_once(remind)).done["timers"] == 2  # first fires, third cancels
    assert (await worker.run_once(remind)).done["timers"] == 0
    assert await inbox(services, sales) == ["提醒：跟进 张三"]
    assert await inbox(services, boss) == []
    # the worker was down past the due time: the overdue notice still goes out, once,
    # to the assignee and the one it escalates to, each in their language
    assert (await worker.run_once(clock.now() + 3 * DAY)).done["timers"] == 2
    assert (await worker.run_once(clock.now() + 4 * DAY)).done["timers"] == 0
    assert await inbox(services, sales) == ["提醒：跟进 张三", "已逾期：跟进 张三"]
    assert await inbox(services, boss) == ["Overdue: Follow up 张三"]  # the task in English too
    async with services.database.read() as conn:
        states = {(row["task_id"], row["kind"]): row["status"] for row in
                  (await conn.execute(select(timer_table))).mappings()}
    ids = [made[r["id"]]["id"] for r in (first, second, third)]
    assert states == {
        (ids[0], "task_remind"): "fired", (ids[0], "task_overdue"): "fired",
        (ids[1], "task_remind"): "cancelled", (ids[1], "task_overdue"): "cancelled",
        (ids[2], "task_remind"): "cancelled", (ids[2], "task_overdue"): "cancelled"}

