"""The hand-written baseline for the records API benchmark: what a competent developer
would write by hand for one ``deal`` table with FastAPI and SQLAlchemy Core — no metadata.

Like Loom's records API it checks a bearer token against a table of SHA-256 token hashes,
writes an audit row in the same transaction as each change, answers with the record and
its version as the ``ETag``, refuses a ``PATCH`` without a matching ``If-Match``, and pages
lists by keyset (``after``). Run it with ``uvicorn bench.handwritten_app:app``; the database
comes from ``BASELINE_DATABASE_URL`` (an async SQLAlchemy URL).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

metadata = MetaData()
deal = Table("hw_deal", metadata,
             Column("id", Integer, primary_key=True),
             Column("title", String(200), nullable=False),
             Column("amount", Numeric(18, 2)),
             Column("stage", String(40)),
             Column("version", Integer, nullable=False),
             Column("created_at", DateTime(timezone=True), nullable=False),
             Column("updated_at", DateTime(timezone=True), nullable=False))
token = Table("hw_token", metadata,
              Column("hash", String(64), primary_key=True),
              Column("user_id", Integer, nullable=False))
audit = Table("hw_audit", metadata,
              Column("id", Integer, primary_key=True),
              Column("at", DateTime(timezone=True), nullable=False),
              Column("user_id", Integer, nullable=False),
              Column("action", String(20), nullable=False),
              Column("record_id", Integer, nullable=False),
              Column("changes", JSON))

STAGES = {"lead", "qualified", "proposal", "won", "lost"}


class DealIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    amount: Decimal | None = None
    stage: str | None = None


class DealPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    amount: Decimal | None = None
    stage: str | None = None


def _engine() -> AsyncEngine:
    url = os.environ["BASELINE_DATABASE_URL"]
    engine = create_async_engine(url, pool_size=8)
    if url.startswith("sqlite"):
        # what anyone serving SQLite to concurrent requests sets: WAL, and writers that wait
        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
    return engine


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.engine = _engine()
    async with app.state.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield
    await app.state.engine.dispose()


app = FastAPI(lifespan=lifespan)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def _user(conn: AsyncConnection, authorization: str | None) -> int:
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "a bearer token is needed")
    user_id = (await conn.execute(select(token.c.user_id).where(
        token.c.hash == _digest(authorization[7:])))).scalar()
    if user_id is None:
        raise HTTPException(401, "the token is not valid")
    return int(user_id)


def _out(row: Any) -> JSONResponse:
    body = {"id": row.id, "title": row.title,
            "amount": None if row.amount is None else str(row.amount), "stage": row.stage,
            "version": row.version, "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat()}
    return JSONResponse(body, headers={"ETag": f'"{row.version}"'})


def _check_stage(stage: str | None) -> None:
    if stage is not None and stage not in STAGES:
        raise HTTPException(422, f"stage must be one of {sorted(STAGES)}")


def _changes(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=str))


@app.post("/deals", status_code=201)
async def create(request: Request, body: DealIn,
                 authorization: str | None = Header(default=None)) -> JSONResponse:
    _check_stage(body.stage)
    async with request.app.state.engine.begin() as conn:
        user_id = await _user(conn, authorization)
        now = datetime.now(UTC)
        values = body.model_dump()
        row = (await conn.execute(insert(deal).values(
            **values, version=1, created_at=now, updated_at=now).returning(deal))).one()
        await conn.execute(insert(audit).values(at=now, user_id=user_id, action="create",
                                                record_id=row.id, changes=_changes(values)))
    response = _out(row)
    response.status_code = 201
    return response


@app.get("/deals/{deal_id}")
async def read(request: Request, deal_id: int,
               authorization: str | None = Header(default=None)) -> JSONResponse:
    async with request.app.state.engine.connect() as conn:
        await _user(conn, authorization)
        row = (await conn.execute(select(deal).where(deal.c.id == deal_id))).first()
    if row is None:
        raise HTTPException(404, f"there is no deal {deal_id}")
    return _out(row)


@app.get("/deals")
async def list_(request: Request, stage: str | None = None, after: int | None = None,
                limit: int = 50, authorization: str | None = Header(default=None)
                ) -> dict[str, Any]:
    query = select(deal).order_by(deal.c.id.desc()).limit(min(max(limit, 1), 200))
    if stage is not None:
        query = query.where(deal.c.stage == stage)
    if after is not None:
        query = query.where(deal.c.id < after)
    async with request.app.state.engine.connect() as conn:
        await _user(conn, authorization)
        rows = (await conn.execute(query)).all()
    items = [{"id": r.id, "title": r.title,
              "amount": None if r.amount is None else str(r.amount), "stage": r.stage,
              "version": r.version} for r in rows]
    return {"items": items, "next": items[-1]["id"] if len(items) == limit else None}


@app.patch("/deals/{deal_id}")
async def change(request: Request, deal_id: int, body: DealPatch,
                 authorization: str | None = Header(default=None),
                 if_match: str | None = Header(default=None)) -> JSONResponse:
    if not if_match:
        raise HTTPException(428, "If-Match is required")
    _check_stage(body.stage)
    values = body.model_dump(exclude_unset=True)
    async with request.app.state.engine.begin() as conn:
        user_id = await _user(conn, authorization)
        now = datetime.now(UTC)
        row = (await conn.execute(
            update(deal).where(deal.c.id == deal_id,
                               deal.c.version == int(if_match.strip('W/"')))
            .values(**values, version=deal.c.version + 1, updated_at=now)
            .returning(deal))).first()
        if row is None:
            exists = (await conn.execute(select(deal.c.id).where(deal.c.id == deal_id))).first()
            raise HTTPException(412 if exists else 404, "the deal changed meanwhile"
                                if exists else f"there is no deal {deal_id}")
        await conn.execute(insert(audit).values(at=now, user_id=user_id, action="update",
                                                record_id=deal_id, changes=_changes(values)))
    return _out(row)
