"""Keyset pagination as a property, on both databases: for random rows (blanks and ties
included), a random multi-field sort and page size, paging visits every row exactly once in
the promised order — and rows inserted between pages are seen exactly when they sort after
the reader's position."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ledger_app import Ledger

from loom.platform.clock import FixedClock
from loom.platform.records.reads import ListQuery

SORTABLE = ["memo", "rank", "amount", "booked", "paid", "created_at", "id"]

entries = st.fixed_dictionaries({
    "memo": st.sampled_from([None, "a", "b", "ab", "ba", "华"]),
    "rank": st.one_of(st.none(), st.integers(-2, 2)),
    "amount": st.sampled_from([None, "0.10", "0.20", "0.30", "-1.00", "10.00"]),
    "booked": st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2026, 1, 4))),
    "paid": st.sampled_from([None, True, False]),
})
sorts = st.lists(st.tuples(st.sampled_from(SORTABLE), st.booleans()), max_size=3,
                 unique_by=lambda key: key[0])


def sort_text(keys: list[tuple[str, bool]]) -> str:
    return ",".join(("-" if descending else "") + name for name, descending in keys)


def comparator(keys: list[tuple[str, bool]]) -> Any:
    """The promised order: each key asc or desc with blanks last, then id (unless id is a
    key already, which ends the keys)."""
    effective: list[tuple[str, bool]] = []
    for name, descending in keys:
        effective.append((name, descending))
        if name == "id":
            break
    else:
        effective.append(("id", False))

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for name, descending in effective:
            x, y = a[name], b[name]
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1
            return (1 if x > y else -1) * (-1 if descending else 1)
        return 0

    return compare


def typed(row: dict[str, Any]) -> dict[str, Any]:
    """A record as read back, with comparable values."""
    amount = row["amount"]
    return {**row, "amount": None if amount is None else Decimal(amount)}


BLANK = {"memo": None, "rank": None, "amount": None, "booked": None, "paid": None}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.lists(entries, max_size=14), keys=sorts, limit=st.integers(1, 5),
       later=st.lists(st.tuples(st.integers(0, 6), entries), max_size=5))
# a cursor after a true or false value once made `paid > true`, which SQLAlchemy refuses
@example(initial=[BLANK, {**BLANK, "paid": True}, {**BLANK, "paid": False}],
         keys=[("paid", False)], limit=1, later=[(1, {**BLANK, "paid": True})])
@example(initial=[BLANK, {**BLANK, "paid": True}, {**BLANK, "paid": False}],
         keys=[("paid", True), ("memo", False)], limit=1, later=[])
async def test_pages_visit_every_row_once_in_order(
        ledger: Ledger, clock: FixedClock, initial: list[dict[str, Any]],
        keys: list[tuple[str, bool]], limit: int,
        later: list[tuple[int, dict[str, Any]]]) -> None:
    await ledger.clear("entry")
    compare = comparator(keys)
    order = cmp_to_key(compare)
    created = await ledger.create_many("entry", initial)
    must_see = {row["id"] for row in created}
    must_not_see: set[int] = set()
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await ledger.page("entry", ListQuery(sort=sort_text(keys), limit=limit,
                                                    cursor=cursor))
        assert len(page.items) <= limit
        seen += [typed(item) for item in page.items]
        cursor, pages = page.next_cursor, pages + 1
        if cursor is None:
            break
        # rows inserted now are ahead of the reader or behind it, never both
        clock.set(clock.now() + timedelta(seconds=1))
        inserted = await ledger.create_many("entry", [row for after, row in later
                                                      if after == pages])
        for row in inserted:
            ahead = compare(typed(row), seen[-1]) > 0
            (must_see if ahead else must_not_see).add(row["id"])
        assert pages < 100, "paging does not end"
    ids = [row["id"] for row in seen]
    assert len(ids) == len(set(ids)), "a row was visited twice"
    assert must_see <= set(ids), "a row was skipped"
    assert not must_not_see & set(ids), "a row behind the reader was visited"
    assert seen == sorted(seen, key=order), "the pages are out of order"


async def test_a_page_of_nothing(ledger: Ledger) -> None:
    page = await ledger.page("entry", ListQuery(sort="-amount,memo", limit=3, count=True))
    assert (page.items, page.next_cursor, page.count, page.count_capped) == ([], None, 0,
                                                                             False)
