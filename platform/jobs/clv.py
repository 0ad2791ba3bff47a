"""The ``clv`` job kind on the database: summarise every subject's purchases in SQL
(``engines.jobs.clv``), fit the models to the distinct histories (``clv_models``), put one
prediction per distinct history back in a temporary table, and stage, write and describe
the subjects' values exactly as the RFM job does (``Staging``, ``Watchers``)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    Table,
    func,
    insert,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import Env
from loom.engines.jobs import clv_models as models
from loom.engines.jobs.clv import ROLE_TYPES, ClvQuery, bgnbd_groups, predicted, spend_groups
from loom.metamodel.i18n import message
from loom.metamodel.jobs import TIME_UNIT_DAYS, ClvJob
from loom.platform.compiled.app import AppRuntime
from loom.platform.jobs.rfm import StagedRun, amount_places
from loom.platform.jobs.staging import Staging
from loom.platform.jobs.watchers import Watchers
from loom.platform.storage.types import ID

SUMMARY = "loom_clv_summary"
PREDICTIONS = "loom_clv_predictions"
INSERT_CHUNK = 20_000
DEFAULT_PLACES = 4  # for values computed but not written
# a month in days, for the discounting of the lifetime value (a twelfth of a year)
MONTH_DAYS = TIME_UNIT_DAYS["month"]


def _summary_table() -> Table:
    return Table(SUMMARY, MetaData(), Column("subject_id", ID, primary_key=True),
                 Column("x", Integer, nullable=False),
                 Column("t_x_days", Integer, nullable=False),
                 Column("t_days", Integer, nullable=False),
                 Column("repeat_minor", BigInteger, nullable=False),
                 prefixes=["TEMPORARY"])


def _predictions_table() -> Table:
    return Table(PREDICTIONS, MetaData(), Column("x", Integer, primary_key=True),
                 Column("t_x_days", Integer, primary_key=True),
                 Column("t_days", Integer, primary_key=True),
                 Column("p_alive", Float, nullable=False),
                 Column("expected_purchases", Float, nullable=False),
                 Column("discounted_purchases", Float, nullable=False),
                 prefixes=["TEMPORARY"])


@dataclass
class Fitted:
    history: models.BgNbd
    spend: models.GammaGamma
    predictions: list[dict[str, Any]]
    customers: int
    repeat_buyers: int
    spend_customers: int
    correlation: float | None


def fit_and_predict(job: ClvJob, histories: list[Any], spends: list[Any],
                    amount_scale: int) -> Fitted:
    """Fit both models and predict per distinct history (pure computation: it runs in a
    worker thread, away from the server's event loop)."""
    unit = TIME_UNIT_DAYS[job.time_unit]
    found = np.array(histories, dtype=np.float64).reshape(-1, 4)
    x, t_x, t, weights = found[:, 0], found[:, 1] / unit, found[:, 2] / unit, found[:, 3]
    history = models.fit_bgnbd(x, t_x, t, weights)
    bought = np.array(spends, dtype=np.float64).reshape(-1, 3)
    spend_x, spend_total = bought[:, 0], bought[:, 1] / 10 ** amount_scale
    spend = models.fit_gamma_gamma(spend_x, spend_total, bought[:, 2], places=amount_scale)
    alive = models.p_alive(history, x, t_x, t)
    expected = models.expected_purchases(history, job.horizon_days / unit, x, t_x, t, alive)
    discounted = models.discounted_purchases(history, job.clv_months, MONTH_DAYS / unit,
                                             job.monthly_discount_rate, x, t_x, t)
    unusable = ~(np.isfinite(alive) & np.isfinite(expected) & np.isfinite(discounted))
    if unusable.any():  # never a NaN in a customer's field: said, and nothing written
        raise models.ModelDataError(message(
            "clv_not_finite", model="BG/NBD", count=int(weights[unusable].sum()),
            params=", ".join(f"{k}={v:.6g}" for k, v in history.public().items())))
    rows = [{"x": int(row[0]), "t_x_days": int(row[1]), "t_days": int(row[2]),
             "p_alive": float(a), "expected_purchases": float(e),
             "discounted_purchases": float(d)}
            for row, a, e, d in zip(histories, alive, expected, discounted, strict=True)]
    return Fitted(history, spend, rows, customers=int(weights.sum()),
                  repeat_buyers=int(weights[x > 0].sum()),
                  spend_customers=int(bought[:, 2].sum()),
                  correlation=models.spend_frequency_correlation(spend_x, spend_total,
                                                                 bought[:, 2]))


async def _create(conn: AsyncConnection, table: Table) -> None:
    await conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
    await conn.run_sync(table.create)


async def _drop(conn: AsyncConnection) -> None:
    for name in (SUMMARY, PREDICTIONS):
        await conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


async def stage_clv(conn: AsyncConnection, runtime: AppRuntime, job: ClvJob, *, as_of: date,
                    now: datetime, env: Env) -> StagedRun:
    """Summarise, fit, stage and write (set-based) one run; the watched changes come back."""
    dialect = conn.dialect.name
    amount_scale = amount_places(runtime, job.events.entity, job.events.amount)
    query = ClvQuery(job, runtime.tables[job.events.entity], as_of, dialect, amount_scale)
    summary, predictions = _summary_table(), _predictions_table()
    phases = _Phases()
    await _create(conn, summary)
    await conn.execute(insert(summary).from_select(
        ["subject_id", "x", "t_x_days", "t_days", "repeat_minor"], query.summary()))
    if dialect == "postgresql":  # a temporary table has no statistics
        await conn.execute(text(f"ANALYZE {SUMMARY}"))
    histories = [tuple(row) for row in (await conn.execute(bgnbd_groups(summary))).all()]
    spends = [tuple(row) for row in (await conn.execute(spend_groups(summary))).all()]
    phases.done("summary")
    fitted = await asyncio.to_thread(fit_and_predict, job, histories, spends, amount_scale)
    phases.done("fit")
    await _create(conn, predictions)
    for start in range(0, len(fitted.predictions), INSERT_CHUNK):
        await conn.execute(insert(predictions),
                           fitted.predictions[start:start + INSERT_CHUNK])
    if dialect == "postgresql":
        await conn.execute(text(f"ANALYZE {PREDICTIONS}"))
    phases.done("predictions")

    outputs = job.outputs()
    places = {role: amount_places(runtime, job.subject, outputs[role]) if role in outputs
              else DEFAULT_PLACES for role in ("p_alive", "expected_purchases",
                                               "expected_spend", "clv")}
    staging = Staging(runtime.tables[job.subject],
                      {name: role for role, name in outputs.items()},
                      {role: ROLE_TYPES[role] for role in outputs})
    await staging.fill(conn, predicted(summary, predictions, fitted.spend,
                                       amount_scale=amount_scale, places=places, as_of=as_of))
    watchers = Watchers(runtime, job.subject, staging, env, dialect)
    await staging.mark_watched(conn, watchers.predicate())
    counts = await staging.counts(conn)
    counts.update(scored=fitted.customers,
                  cleared=await _cleared(conn, staging, next(iter(outputs))))
    result = _describe(job, fitted)
    result["pipeline_because"] = watchers.reasons
    await staging.write_unwatched(conn, app_id=runtime.app_id, entity=job.subject, now=now)
    watched = await staging.watched_rows(conn)
    await staging.drop(conn)
    await _drop(conn)
    result["phases_ms"] = phases.done("write")
    return StagedRun(counts, result, watched)


class _Phases:
    """How long each part of a run took, in the run's result (ms): the SQL summary, the
    fit and predictions in Python, loading the predictions, staging and writing."""

    def __init__(self) -> None:
        self.mark, self.took = time.perf_counter(), {}

    def done(self, name: str) -> dict[str, int]:
        now = time.perf_counter()
        self.took[name] = round((now - self.mark) * 1000)
        self.mark = now
        return self.took


async def _cleared(conn: AsyncConnection, staging: Staging, role: str) -> int:
    stage = staging.table
    found = await conn.scalar(select(func.count()).where(
        stage.c.changed == true(), stage.c[f"new_{role}"].is_(None)))
    return int(found or 0)


def _describe(job: ClvJob, fitted: Fitted) -> dict[str, Any]:
    return {
        "bg_nbd": fitted.history.public(),
        "gamma_gamma": fitted.spend.public(),
        "customers": fitted.customers,
        "repeat_buyers": fitted.repeat_buyers,
        "spend_customers": fitted.spend_customers,
        "distinct_histories": len(fitted.predictions),
        "spend_frequency_correlation": fitted.correlation,
        "time_unit": job.time_unit,
        "horizon_days": job.horizon_days,
        "clv_months": job.clv_months,
        "monthly_discount_rate": job.monthly_discount_rate,
        "window_days": job.window_days,
    }
