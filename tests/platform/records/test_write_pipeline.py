"""The write pipeline driven directly: bulk checks are set-based (the number of statements
does not grow with the batch), engines plug in before and after the save within the one
transaction, trusted writers may set read-only fields, and chains of writes are bounded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from ledger_app import Ledger
from sqlalchemy import event, func, select

from loom.metamodel.errors import Conflict, ValidationFailed
from loom.platform.records.context import WriteContext
from loom.platform.storage.system_tables import outbox, record_audit


@contextmanager
def statements(ledger: Ledger) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block (an executemany is one)."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = ledger.services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def _audit_rows(ledger: Ledger, **where: Any) -> list[Any]:
    async with ledger.services.database.read() as conn:
        query = select(record_audit).order_by(record_audit.c.id)
        for name, value in where.items():
            query = query.where(record_audit.c[name] == value)
        return list((await conn.execute(query)).mappings().all())


async def test_bulk_checks_cost_the_same_for_any_batch(ledger: Ledger) -> None:
    parties = await ledger.create_many("party", [{"name": f"p{n}"} for n in range(5)])
    await ledger.create_many("entry", [{"memo": "warm up"}])  # runtime cached

    def batch(size: int, offset: int) -> list[dict[str, Any]]:
        return [{"memo": f"m{n}", "party": parties[n % 5]["id"],
                 "owner": "ADMIN@example.com" if n % 2 else ledger.actor.user_id,
                 "code": f"C{offset + n}", "status": "draft", "amount": "1.50"}
                for n in range(size)]

    checks, writes = [], []
    for size, offset in ((3, 0), (150, 1000)):
        with statements(ledger) as seen:
            created = await ledger.create_many("entry", batch(size, offset))
        assert len(created) == size
        assert [row["code"] for row in created] == [f"C{offset + n}" for n in range(size)]
        checks.append([s for s in seen if s.lstrip().upper().startswith("SELECT")])
        writes.append([s for s in seen if not s.lstrip().upper().startswith("SELECT")])
    # the app, then one query per reference field (party, owner) and unique field (code),
    # whatever the size of the batch
    assert len(checks[0]) == len(checks[1]) == 4, checks[1]
    if ledger.services.database.is_postgres:
        # the rows and their audit entries: one statement each (SQLite has no way to keep
        # the ids of a multi-row insert in order, so it inserts row by row)
        assert len(writes[0]) == len(writes[1]) == 2, writes[1]
    # a refused batch is found out by the same few queries, before anything is written
    with statements(ledger) as seen, pytest.raises(ValidationFailed) as refused:
        await ledger.create_many("entry", [*batch(150, 1000), {"party": 10**6}])
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 4
    assert not any(s.lstrip().upper().startswith("INSERT") for s in seen)
    assert len(refused.value.problems) == 151  # 150 codes taken, 1 missing party
    assert {p.index for p in refused.value.problems} == set(range(151))
    assert len(await _audit_rows(ledger, entity="entry")) == 154


async def test_hooks_are_part_of_the_one_transaction(ledger: Ledger) -> None:
    class Stamp:
        """Before the save: a rule that sets fields (trusted, so read-only ones too)."""

        async def before_save(self, ctx: WriteContext) -> None:
            if ctx.operation == "create":
                ctx.new["checked"] = True
                ctx.new["memo"] = (ctx.new.get("memo") or "").upper()
                if ctx.new["memo"] == "BAD":
                    ctx.new["status"] = "not-an-option"

        async def after_save(self, ctx: WriteContext) -> None:
            ctx.outbox.append({"kind": "email", "key": f"entry-{ctx.record_id}",
                               "payload": {"to": "boss@example.com",
                                           "subject": ctx.new["memo"]}})
            if ctx.new.get("memo") == "FAIL":
                raise RuntimeError("the flow engine fell over")

    ledger.services.pipeline.hooks.append(Stamp())
    [entry] = await ledger.create_many("entry", [{"memo": "hello"}])
    assert (entry["memo"], entry["checked"]) == ("HELLO", True)

    # what a hook decides is validated like anything else; nothing is written
    with pytest.raises(ValidationFailed) as refused:
        await ledger.create_many("entry", [{"memo": "bad"}])
    assert [p.field for p in refused.value.problems] == ["status"]
    # an after-save failure undoes the record, its audit row and its side effects
    with pytest.raises(RuntimeError):
        await ledger.create_many("entry", [{"memo": "fail"}])
    async with ledger.services.database.read() as conn:
        mails = (await conn.execute(select(outbox.c.idempotency_key, outbox.c.payload))).all()
    assert mails == [(f"entry-{entry['id']}", {"to": "boss@example.com",
                                               "subject": "HELLO"})]
    page = await ledger.page("entry", _all())
    assert [item["memo"] for item in page.items] == ["HELLO"]
    assert len(await _audit_rows(ledger, entity="entry")) == 1


async def test_read_only_fields_are_for_trusted_writers(ledger: Ledger) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await ledger.create_many("entry", [{"checked": True}])
    assert refused.value.problems[0].code == "read_only"
    [entry] = await ledger.create_many("entry", [{"memo": "x"}])
    as_rule = ledger.actor.via("rule")
    async with ledger.services.database.write() as conn:
        runtime = await ledger.services.apps.runtime(conn, as_rule, ledger.slug)
        changed = await ledger.services.pipeline.update(conn, runtime, as_rule, "entry",
                                                        entry["id"], {"checked": True})
    assert (changed["checked"], changed["version"]) == (True, 2)
    [_, update] = await _audit_rows(ledger, record_id=entry["id"], entity="entry")
    assert (update["source"], update["changes"]) == ("rule", {"checked": [None, True]})
    # the same value sent back by a person is no attempt to change it
    same = await ledger.update("entry", entry["id"], {"checked": True, "memo": "y"})
    assert same["version"] == 3


async def test_chains_of_writes_are_bounded(ledger: Ledger) -> None:
    class Echo:
        """An after-save rule that changes its own record again: a cycle."""

        async def before_save(self, ctx: WriteContext) -> None:
            return None

        async def after_save(self, ctx: WriteContext) -> None:
            if ctx.operation == "update":
                await ctx_pipeline.update(ctx.conn, ctx.runtime, ctx.actor.via("rule"),
                                          ctx.entity, ctx.record_id,
                                          {"rank": (ctx.new["rank"] or 0) + 1},
                                          budget=ctx.budget)

    ctx_pipeline = ledger.services.pipeline
    [entry] = await ledger.create_many("entry", [{"memo": "loop", "rank": 0}])
    ctx_pipeline.hooks.append(Echo())
    with pytest.raises(Conflict) as stopped:
        await ledger.update("entry", entry["id"], {"memo": "go"})
    assert "Too many chained changes" in str(stopped.value)
    assert "entry#" in str(stopped.value)
    ctx_pipeline.hooks.pop()
    page = await ledger.page("entry", _all())
    assert [(item["memo"], item["rank"], item["version"]) for item in page.items] == [
        ("loop", 0, 1)]


async def test_a_duplicate_the_checks_missed_is_named_by_the_database(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """A concurrent writer can slip past the checks; the unique index then refuses, and
    the problem names the field it guards (not another whose name it contains)."""
    from loom.platform.records import pipeline

    async def nothing_found(*args: Any) -> dict[int, list[Any]]:
        return {}

    [first] = await ledger.create_many("entry", [{"code": "C-1", "barcode": "690123"}])
    monkeypatch.setattr(pipeline, "find_duplicates", nothing_found)
    cases = [({"barcode": "690123"}, "barcode", "Barcode '690123' is already used by another "
              "record"), ({"code": "C-1"}, "code", "code 'C-1' is already used by another record")]
    for data, field, text in cases:
        with pytest.raises(ValidationFailed) as refused:
            await ledger.create_many("entry", [data])
        [problem] = refused.value.problems
        assert (problem.field, problem.code) == (field, "unique")
        assert problem.message.render("en") == text
        [second] = await ledger.create_many("entry", [{"memo": "other"}])
        with pytest.raises(ValidationFailed) as refused:
            await ledger.update("entry", second["id"], data)
        assert refused.value.problems[0].message.render("en") == text
    with pytest.raises(ValidationFailed) as refused:
        await ledger.create_many("entry", [{"barcode": "1"}, {"barcode": "1"}])
    assert refused.value.problems[0].field == "barcode"
    assert first["barcode"] == "690123"


async def test_counts_stop_at_the_cap(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    from loom.platform.records import reads

    await ledger.create_many("entry", [{"rank": n} for n in range(12)])
    monkeypatch.setattr(reads, "COUNT_CAP", 5)
    with statements(ledger) as seen:
        page = await ledger.page("entry", _all(count=True, limit=2))
    assert (page.count, page.count_capped, len(page.items)) == (5, True, 2)
    counting = [s for s in seen if "count(" in s.lower()]
    assert len(counting) == 1 and "LIMIT" in counting[0].upper()
    async with ledger.services.database.read() as conn:
        runtime = await ledger.services.apps.runtime(conn, ledger.actor, ledger.slug)
        assert await conn.scalar(select(func.count()).select_from(
            runtime.tables["entry"])) == 12


def _all(**options: Any) -> Any:
    from loom.platform.records.reads import ListQuery

    return ListQuery(**{"limit": 1000, **options})
