"""The ``rfm`` job kind on the database: stage the scores of every subject (one SQL query,
``engines.jobs.rfm``), write the changes, and describe the run — the population, the
means the tiers were split on, the value range of each score, the tier counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import Env
from loom.engines.jobs.rfm import ROLE_TYPES, RfmQuery, minor_to_amount
from loom.metamodel.fields import FieldType
from loom.metamodel.jobs import RfmJob
from loom.platform.compiled.app import AppRuntime
from loom.platform.jobs.staging import Staging
from loom.platform.jobs.watchers import Watchers

MEAN_PLACES = Decimal("0.0001")
# (dimension, its raw value role, its score role) in the order results list them
DIMENSIONS = (("recency", "recency_days", "recency_score"),
              ("frequency", "frequency", "frequency_score"),
              ("monetary", "monetary", "monetary_score"))


@dataclass
class StagedRun:
    """What the transaction that staged a run leaves for the rest of it."""

    counts: dict[str, int]
    result: dict[str, Any]
    watched: list[dict[str, Any]] = field(default_factory=list)


def amount_places(runtime: AppRuntime, entity: str, name: str) -> int:
    """Decimal places of a number field (0 for integers): its minor unit."""
    spec = runtime.entity(entity).fields[name]
    return 0 if spec.storage_type() is FieldType.INTEGER else spec.decimal_scale()


def rfm_query(runtime: AppRuntime, job: RfmJob, as_of: date, dialect: str) -> RfmQuery:
    amount_scale = amount_places(runtime, job.events.entity, job.events.amount)
    monetary = job.values.monetary if job.values else None
    return RfmQuery(job, runtime.tables[job.subject], runtime.tables[job.events.entity],
                    as_of, dialect, amount_scale,
                    amount_places(runtime, job.subject, monetary) if monetary else amount_scale)


async def stage_rfm(conn: AsyncConnection, runtime: AppRuntime, job: RfmJob, *, as_of: date,
                    now: datetime, env: Env) -> StagedRun:
    """Compute, stage and write (set-based) one run; the watched changes come back."""
    dialect = conn.dialect.name
    query = rfm_query(runtime, job, as_of, dialect)
    roles = {role: kind for role, kind in ROLE_TYPES.items()
             if role != "tier" or job.tiers is not None}
    staging = Staging(runtime.tables[job.subject],
                      {name: role for role, name in job.outputs().items()}, roles)
    await staging.fill(conn, query.scored())
    watchers = Watchers(runtime, job.subject, staging, env, dialect)
    await staging.mark_watched(conn, watchers.predicate())
    counts = await staging.counts(conn)
    result = await _describe(conn, staging, job, query)
    counts.update(scored=result.pop("scored"), cleared=result.pop("cleared"))
    result["pipeline_because"] = watchers.reasons
    await staging.write_unwatched(conn, app_id=runtime.app_id, entity=job.subject, now=now)
    watched = await staging.watched_rows(conn)
    await staging.drop(conn)
    return StagedRun(counts, result, watched)


async def _describe(conn: AsyncConnection, staging: Staging, job: RfmJob,
                    query: RfmQuery) -> dict[str, Any]:
    stage = staging.table
    scored = stage.c.new_frequency.is_not(None)
    row = (await conn.execute(select(
        func.count().filter(scored),
        func.count().filter(stage.c.changed == true(), stage.c.new_frequency.is_(None)),
        func.coalesce(func.sum(stage.c.new_recency_days), 0),
        func.coalesce(func.sum(stage.c.new_frequency), 0),
        func.coalesce(func.sum(stage.c.new_monetary_minor), 0)))).one()
    population = int(row[0])
    totals = {"recency": Decimal(int(row[2])), "frequency": Decimal(int(row[3])),
              "monetary": minor_to_amount(row[4], query.amount_scale)}
    means = {name: (total / population).quantize(MEAN_PLACES) if population else None
             for name, total in totals.items()}
    quintiles = {}
    for dimension, value_role, score_role in DIMENSIONS:
        value, score = stage.c[f"new_{value_role}"], stage.c[f"new_{score_role}"]
        rows = (await conn.execute(
            select(score, func.min(value), func.max(value), func.count())
            .where(score.is_not(None)).group_by(score).order_by(score))).all()
        quintiles[dimension] = [{"score": int(s), "low": low, "high": high, "subjects": n}
                                for s, low, high, n in rows]
    result: dict[str, Any] = {
        "scored": population, "cleared": int(row[1]),
        "means": means,
        "thresholds": {"high_r": {"recency_days_at_most": means["recency"]},
                       "high_f": {"frequency_at_least": means["frequency"]},
                       "high_m": {"monetary_at_least": means["monetary"]}},
        "quintiles": quintiles,
        "window_days": job.window_days,
    }
    if job.tiers is not None:
        tier = stage.c.new_tier
        rows = (await conn.execute(select(tier, func.count()).where(tier.is_not(None))
                                   .group_by(tier).order_by(tier))).all()
        result["tiers"] = {name: count for name, count in rows}
    return result
