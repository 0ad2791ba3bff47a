"""``/metrics``: the Prometheus text format (``loom.platform.metrics``).

Served to this machine only (a Prometheus or an agent on the host, or the reverse proxy's
own checks) unless ``LOOM_METRICS_TOKEN`` is set; then to whoever presents that token as a
bearer token — and to nobody else, loopback included. Behind a reverse proxy on the same
host, requests arrive from loopback: the proxy must pass the client's address
(``X-Forwarded-For``, which uvicorn honours from 127.0.0.1) or not forward ``/metrics``
(docs/OPERATIONS.md).
"""

from __future__ import annotations

import hmac
import ipaddress
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from loom.metamodel.errors import PermissionDenied
from loom.metamodel.i18n import message, register_messages
from loom.platform import metrics
from loom.platform.api.context import services
from loom.platform.services import Services
from loom.platform.storage.system_tables import outbox, timers, worker_heartbeats

router = APIRouter(tags=["platform"])

register_messages({
    "metrics_refused": {
        "en": "Metrics are served to this machine only, or with the metrics token "
              "(LOOM_METRICS_TOKEN) as a bearer token",
        "zh-CN": "监控指标仅对本机提供，或需以监控令牌（LOOM_METRICS_TOKEN）作为 Bearer 令牌访问"},
})


def _allowed(request: Request, token: str | None) -> bool:
    if token:
        presented = request.headers.get("authorization", "")
        return hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics", include_in_schema=False)
async def get_metrics(request: Request) -> Response:
    svc = services(request)
    if not _allowed(request, svc.settings.metrics_token):
        raise PermissionDenied(message("metrics_refused"))
    with suppress(Exception):  # a database away: its figures stay as last read
        await _read_database(svc)
    _read_pool(svc)
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def _read_database(svc: Services) -> None:
    now = svc.clock.now()
    async with svc.database.read() as conn:
        counts = dict((await conn.execute(
            select(outbox.c.status, func.count()).where(outbox.c.status != "sent")
            .group_by(outbox.c.status))).all())
        oldest = await conn.scalar(select(func.min(outbox.c.created_at))
                                   .where(outbox.c.status == "pending"))
        overdue = await conn.scalar(select(func.count()).select_from(timers).where(
            timers.c.status == "pending", timers.c.due_at < now - timedelta(minutes=1)))
        beat = await conn.scalar(select(func.max(worker_heartbeats.c.beat_at)))
    for status in ("pending", "failed", "dead"):
        metrics.outbox_backlog.labels(status).set(counts.get(status, 0))
    metrics.outbox_oldest.set(_age(now, oldest))
    metrics.timers_overdue.set(overdue or 0)
    metrics.worker_heartbeat_age.set(_age(now, beat) if beat else -1)


def _age(now: Any, moment: Any) -> float:
    if moment is None:
        return 0.0
    if isinstance(moment, str):  # SQLite's min()/max() of a datetime column is its text
        moment = datetime.fromisoformat(moment)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return max(0.0, (now - moment).total_seconds())


def _read_pool(svc: Services) -> None:
    pool: Any = svc.database.engine.pool
    if not hasattr(pool, "checkedout"):
        return
    metrics.pool_connections.labels("in_use").set(pool.checkedout())
    metrics.pool_connections.labels("idle").set(pool.checkedin())
    metrics.pool_connections.labels("overflow").set(max(0, pool.overflow()))
    metrics.pool_connections.labels("size").set(pool.size())
