"""A write answers with the record as stored: the row the database returned from the write
itself, read again only when the write set off others (rules, flows, roll-ups) that may
have changed it in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from lab_app import LAB
from sqlalchemy import event

from loom.platform.services import Services

# values the database keeps in its own form: a currency with fewer decimals, a time in
# another zone, lists and objects
VALUES = {"title": "round trip", "price": "12.5", "weight": "1.250", "discount": "0.15",
          "quantity": 3, "active": True, "due": "2026-03-01",
          "meeting": "2026-03-01T09:30:00+08:00", "stage": "won", "tags": ["vip", "hot"],
          "extra": {"a": [1, "二"]}, "rating": 4, "email": "a@example.com"}


@contextmanager
def selects_of(services: Services, table: str) -> Iterator[list[str]]:
    """The SELECT statements naming ``table`` sent inside the block."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and table in statement:
            seen.append(statement)

    engine = services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_a_write_answers_the_record_as_stored_without_reading_it_again(
        lab: httpx.AsyncClient, services: Services) -> None:
    await lab.post(f"{LAB}/sample", json={"title": "warm up"})  # the app's runtime cached
    with selects_of(services, "sample") as seen:
        created = await lab.post(f"{LAB}/sample", json=VALUES)
    assert created.status_code == 201, created.text
    assert seen == []  # nothing after the save could have changed it: no second read
    record = created.json()
    read = await lab.get(f"{LAB}/sample/{record['id']}")
    assert record == read.json()
    assert created.headers["ETag"] == read.headers["ETag"] == '"1"'

    with selects_of(services, "sample") as seen:
        changed = await lab.patch(f"{LAB}/sample/{record['id']}",
                                  json={"price": "7.1", "tags": ["new"], "weight": "2"},
                                  headers={"If-Match": created.headers["ETag"]})
    assert changed.status_code == 200, changed.text
    assert len(seen) == 1  # the record loaded (and locked) to be changed; not read again
    read = await lab.get(f"{LAB}/sample/{record['id']}")
    assert changed.json() == read.json()
    assert changed.headers["ETag"] == read.headers["ETag"] == '"2"'


async def test_a_bulk_create_answers_the_records_as_stored(lab: httpx.AsyncClient) -> None:
    response = await lab.post(f"{LAB}/sample/_bulk", json=[VALUES, {"title": "b", "price": "3"}])
    assert response.status_code == 201, response.text
    for item in response.json()["items"]:
        assert item == (await lab.get(f"{LAB}/sample/{item['id']}")).json()


async def test_a_record_changed_by_the_writes_it_set_off_answers_as_they_left_it(
        lab: httpx.AsyncClient) -> None:
    # a contract saved with its lines: the lines are records of their own, written in the
    # same transaction, and the contract's number is drawn as it is saved
    response = await lab.post(f"{LAB}/contract", json={
        "title": "with lines", "lines": [{"amount": "5.5"}, {"amount": "2"}]})
    assert response.status_code == 201, response.text
    record = response.json()
    read = (await lab.get(f"{LAB}/contract/{record['id']}")).json()
    assert record == read
    assert response.headers["ETag"] == f'"{read["version"]}"'
