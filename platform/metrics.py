"""The platform's Prometheus metrics (``/metrics``, README "Operations").

Counters and histograms live in one registry per process, as Prometheus expects of a
process it scrapes: the server's requests and writes in the server, the worker's timers,
deliveries and jobs in the worker (``loom worker`` serves its own ``/metrics`` on
``LOOM_WORKER_METRICS_PORT``). What the database knows — the outbox backlog, the workers'
heartbeats — and the connection pool are read when a scrape asks, so any server reports
them. Counts of writes are taken when the row is written, inside its transaction: a
transaction rolled back afterwards was still counted as an attempt.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
LATENESS_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 900, 3600, 4 * 3600, 86400)
JOB_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600)

http_requests = Histogram(
    "loom_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status",
    ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
record_saves = Counter(
    "loom_record_saves_total", "Records written by the write pipeline (audit rows)",
    ["action", "source"], registry=REGISTRY)
rule_runs = Counter(
    "loom_rule_runs_total", "Rule runs by outcome (ok, failed, …)", ["status"],
    registry=REGISTRY)
flow_steps = Counter(
    "loom_flow_steps_total", "Steps of flow instances (their history events)", ["event"],
    registry=REGISTRY)
timer_lateness = Histogram(
    "loom_timer_lateness_seconds", "How long after its due time a timer was taken up",
    ["kind"], buckets=LATENESS_BUCKETS, registry=REGISTRY)
outbox_deliveries = Counter(
    "loom_outbox_deliveries_total", "Email and webhook delivery attempts by result",
    ["kind", "result"], registry=REGISTRY)
job_duration = Histogram(
    "loom_job_duration_seconds", "Wall time of job runs, by job and outcome",
    ["job", "status"], buckets=JOB_BUCKETS, registry=REGISTRY)
worker_rounds = Counter(
    "loom_worker_rounds_total", "Worker rounds by outcome", ["result"], registry=REGISTRY)

# read from the database and the pool at each scrape (platform/api/routes/metrics.py)
outbox_backlog = Gauge(
    "loom_outbox_backlog", "Outbox items by status (pending: waiting to go out; failed: "
    "gave up after their retries)", ["status"], registry=REGISTRY)
outbox_oldest = Gauge(
    "loom_outbox_oldest_pending_seconds", "Age of the oldest pending outbox item",
    registry=REGISTRY)
timers_overdue = Gauge(
    "loom_timers_overdue", "Pending timers past their due time", registry=REGISTRY)
worker_heartbeat_age = Gauge(
    "loom_worker_heartbeat_age_seconds", "Seconds since the freshest worker heartbeat "
    "(-1: no worker has ever run)", registry=REGISTRY)
pool_connections = Gauge(
    "loom_db_pool_connections", "Database connections of this process's pool by state",
    ["state"], registry=REGISTRY)
replica_reads = Counter(
    "loom_db_replica_reads_total", "Reads that tolerate lag (dashboards, exports), by the "
    "server that answered them: replica or primary", ["target"], registry=REGISTRY)
replica_fallbacks = Counter(
    "loom_db_replica_fallbacks_total", "Times the read replica was set aside and its reads "
    "sent to the primary, by reason (unreachable, lagging, failed)", ["reason"],
    registry=REGISTRY)
replica_lag = Gauge(
    "loom_db_replica_lag_seconds", "The read replica's last measured lag (-1: unknown)",
    registry=REGISTRY)
