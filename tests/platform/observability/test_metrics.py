"""``/metrics`` on both databases: the Prometheus text format, counting what the platform
did (requests by route template, saves, rule runs, flow steps, timers, deliveries, jobs)
and reading what the database holds (outbox backlog) and the pool; served to loopback, or
with the metrics token, and to nobody else."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fixture_kit import problem_of
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from loom.platform.api.app import create_app
from loom.platform.outbox.store import enqueue
from loom.platform.services import Services
from loom.platform.storage.system_tables import apps
from loom.platform.worker import Worker

RECORDS = "/api/apps/crm/records"


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple], float]:
    """Every sample of ``/metrics``, by name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def total(samples: dict[tuple[str, tuple], float], name: str, **labels: str) -> float:
    return sum(value for (found, where), value in samples.items() if found == name
               and all((key, wanted) in where for key, wanted in labels.items()))


async def test_metrics_count_what_the_platform_did(api: httpx.AsyncClient,
                                                   services: Services) -> None:
    created = await api.post("/api/apps", json={"slug": "crm", "template": "crm"})
    assert created.status_code == 201, created.text
    before = await scrape(api)
    customer = await api.post(f"{RECORDS}/customer", json={"name": "苏州精工机械有限公司"})
    assert customer.status_code == 201, customer.text
    ticket = await api.post(f"{RECORDS}/ticket", json={
        "subject": "注塑机控制系统无法启动", "customer": customer.json()["id"],
        "channel": "phone", "type": "fault", "priority": "p1"})
    assert ticket.status_code == 201, ticket.text
    missing = await api.get(f"{RECORDS}/customer/999999")
    assert missing.status_code == 404
    async with services.database.write() as conn:
        app_id = await conn.scalar(select(apps.c.id).where(apps.c.slug == "crm"))
        await enqueue(conn, workspace_id=1, app_id=app_id, kind="email", key="metrics-test",
                      payload={"to": ["ops@example.com"], "subject": "s", "body": "b"},
                      now=services.clock.now() - timedelta(minutes=5))
    job = await api.post("/api/apps/crm/jobs/rfm/run", json={})
    assert job.status_code in (200, 201), job.text
    await Worker(services).run_once(services.clock.now() + timedelta(days=3))
    after = await scrape(api)

    def grew(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    route = "/api/apps/{app}/records/{entity}"
    assert grew("loom_http_request_duration_seconds_count", method="POST", route=route,
                status="201") == 2
    assert grew("loom_http_request_duration_seconds_count", method="GET",
                route="/api/apps/{app}/records/{entity}/{record_id}", status="404") == 1
    assert not [key for key in after if "999999" in str(key)]  # templates, never paths
    assert grew("loom_record_saves_total", action="create", source="api") == 2
    assert grew("loom_record_saves_total") >= 3  # the rules' own writes too
    assert grew("loom_rule_runs_total") >= 1
    assert grew("loom_flow_steps_total") >= 1  # the ticket's SLA flow started
    assert grew("loom_timer_lateness_seconds_count") >= 1  # its timers, three days on
    assert grew("loom_outbox_deliveries_total", kind="email") >= 1  # no SMTP: failed
    assert grew("loom_job_duration_seconds_count", job="rfm", status="done") >= 1
    assert total(after, "loom_outbox_backlog", status="pending") + \
        total(after, "loom_outbox_backlog", status="failed") >= 1
    assert total(after, "loom_worker_heartbeat_age_seconds") == -1  # no worker ran
    assert ("loom_db_pool_connections", (("state", "in_use"),)) in after


async def test_metrics_are_for_the_machine_or_the_token(services: Services) -> None:
    app = create_app(services=services)

    def client(host: str, **headers: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(host, 4321))
        return httpx.AsyncClient(transport=transport, base_url="http://loom.test",
                                 headers=headers)

    async with client("127.0.0.1") as local, client("::1") as local6, \
            client("203.0.113.9") as remote:
        assert (await local.get("/metrics")).status_code == 200
        assert (await local6.get("/metrics")).status_code == 200
        refused = problem_of(await remote.get("/metrics", headers={"Accept-Language": "en"}),
                             403)
        assert "served to this machine only" in refused["detail"]
        chinese = await remote.get("/metrics", headers={"Accept-Language": "zh-CN"})
        assert "仅对本机提供" in problem_of(chinese, 403)["detail"]

    services.settings.metrics_token = "s3cret-metrics-token"
    async with client("203.0.113.9", authorization="Bearer s3cret-metrics-token") as with_token, \
            client("127.0.0.1", authorization="Bearer wrong") as wrong, \
            client("127.0.0.1") as local:
        assert "loom_http_request_duration_seconds" in (await with_token.get("/metrics")).text
        problem_of(await wrong.get("/metrics"), 403)
        problem_of(await local.get("/metrics"), 403)  # with a token, loopback needs it too
