"""The attack's own soundness: an operation that only works for the one record that exists
succeeds through its explicit case, whatever the seed draws, and an operation that never
works stays without a success (so "never succeeded" catches it)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException
from openapi_attack import Budget, Ready, attack, load_schema

THE_ONE = 424_242  # the only record there is: a generated id almost never names it


def _app() -> FastAPI:
    app = FastAPI()
    responses: dict[int | str, dict[str, Any]] = {404: {"description": "No such thing"},
                                                  422: {"description": "Not an id"}}

    @app.get("/things/{thing_id}", responses=responses)
    async def thing(thing_id: int) -> dict[str, int]:
        if thing_id != THE_ONE:
            raise HTTPException(404)
        return {"id": thing_id}

    @app.get("/broken/{thing_id}", responses=responses)
    async def broken(thing_id: int) -> dict[str, int]:
        raise HTTPException(404)

    return app


async def test_sure_cases_make_success_certain_and_broken_stays_broken() -> None:
    app = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://loom.test") as client:
        schema = load_schema(app.openapi())
        sure = [{"path_parameters": {"thing_id": THE_ONE}}]
        for seed in (1, 2, 3):
            report = await asyncio.to_thread(
                attack, client, asyncio.get_running_loop(), schema, known={},
                budget=Budget(valid=5, invalid=2, seed=seed),
                prepare=lambda operation: Ready({}, sure))
            assert report.failures == [], report.failures
            assert 200 in report.statuses["GET /things/{thing_id}"], report.summary()
            broken = report.statuses["GET /broken/{thing_id}"]
            assert broken and all(code >= 400 for code in broken), report.summary()
        without = await asyncio.to_thread(
            attack, client, asyncio.get_running_loop(), schema, known={},
            budget=Budget(valid=5, invalid=2, seed=1))
        assert 200 not in without.statuses["GET /things/{thing_id}"], without.summary()
