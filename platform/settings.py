"""One settings object, read from the environment (``LOOM_…``), with embedded-mode defaults."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from loom.platform.storage.database import Database

# For API responses and the (server-rendered) UI: only what the server itself serves.
DEFAULT_CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; "
               "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def async_database_url(url: str) -> str:
    """Accept the URLs people write (``postgresql://…``, ``sqlite:///…``) and pick the async
    driver the platform runs on."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+psycopg://") or url.startswith("postgresql+psycopg2://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOOM_", extra="ignore")

    data_dir: Path = Field(default=Path("loom-data"), description="Embedded-mode files")
    database_url: str = Field(default="", description="Default: SQLite under data_dir")
    # PostgreSQL: a streaming replica for the reads that tolerate a little lag (dashboards,
    # exports); docs/OPERATIONS.md "Read replica". Unset: every read on the primary.
    database_replica_url: str | None = None
    # a replica further behind than this is set aside (reads go to the primary) ...
    database_replica_max_lag_seconds: float = Field(default=30, gt=0, le=86_400)
    # ... as is one that cannot be reached; it is tried again this long afterwards
    database_replica_retry_seconds: float = Field(default=10, gt=0, le=3600)
    smtp_url: str | None = None
    mail_from: str = "loom@localhost"
    admin_email: str | None = None
    admin_password: str | None = None
    # the first start of an empty workspace: "crm" (a CRM with demo data) or "blank";
    # unset: the CRM on the embedded database, blank on PostgreSQL (platform/first_run.py)
    first_run: Literal["crm", "blank"] | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Sessions, CSRF and webhook signatures; generated and kept under data_dir when unset.
    secret_key: str | None = None
    # Largest request body accepted (bytes).
    max_body_bytes: int = 10 * 1024 * 1024
    # PostgreSQL: how long DDL may wait for a lock while publishing before giving up.
    ddl_lock_timeout_ms: int = 5000
    # How long a request waits for the database — SQLite's write lock, a row or table lock
    # on PostgreSQL (lock_timeout), a free pooled connection — before it is answered 503
    # with Retry-After.
    busy_timeout_ms: int = Field(default=5000, ge=100, le=600_000)
    # Long work (demo loads, imports, hand-overs, jobs) commits a transaction once it has
    # run this long, so others never wait behind it for more than a moment.
    write_chunk_ms: int = Field(default=100, ge=10, le=10_000)
    token_days: int = 30
    # how long deleted records stay in an app's recycle bin, restorable (then purged)
    recycle_days: int = Field(default=30, ge=1, le=3650)
    log_json: bool = True
    # --- security (README: Security) ---
    # sign-in: failures per email (and, more, per client address: offices share one) within
    # the window lock that email (address) for lock minutes
    login_max_failures: int = Field(default=5, ge=1)
    login_ip_max_failures: int = Field(default=50, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    login_lock_minutes: int = Field(default=15, ge=1)
    session_hours: int = Field(default=12, ge=1)
    api_token_days: int = Field(default=365, ge=1, le=3650)
    password_reset_minutes: int = Field(default=60, ge=5, le=24 * 60)
    # the address people open Loom at, for links in email (never taken from a request's
    # Host header, which a client chooses); default http://host:port
    public_url: str | None = None
    # origins (scheme://host[:port]) whose pages may call the API; none by default
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    content_security_policy: str = DEFAULT_CSP
    hsts_seconds: int = Field(default=31_536_000, ge=0)
    # PostgreSQL: memory each sort or hash of a job's set-based computation may use. The
    # server's default (4MB) makes the planner walk the orders by index to group them,
    # several times slower than hashing them (docs/PERFORMANCE.md, "RFM job").
    job_work_mem: str = Field(default="256MB", pattern=r"^[1-9][0-9]{0,6}(kB|MB|GB)$")
    # --- operations (docs/OPERATIONS.md) ---
    # /metrics answers requests from this machine (loopback) only, unless this token is
    # set: then it answers whoever sends "Authorization: Bearer <token>", and nobody else
    metrics_token: str | None = None
    # ``loom worker`` serves its own /metrics on 127.0.0.1:<port> when set
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # a worker whose heartbeat is older than this is stale (beats come every 10 seconds)
    worker_stale_seconds: int = Field(default=60, ge=15, le=86_400)
    # /api/health/ready requires a live worker (false: it reports the worker, but a server
    # without one is still ready to take requests)
    ready_needs_worker: bool = True
    # on SIGTERM, ``loom serve`` stops taking connections and gives the requests under way
    # this long to finish
    shutdown_seconds: int = Field(default=30, ge=1, le=3600)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("database_url", "database_replica_url")
    @classmethod
    def _normalise(cls, value: str | None) -> str | None:
        return async_database_url(value) if value else value

    @model_validator(mode="after")
    def _replica_of_postgresql(self) -> Settings:
        if self.database_replica_url and not (
                self.resolved_database_url().startswith("postgresql")
                and self.database_replica_url.startswith("postgresql")):
            raise ValueError("LOOM_DATABASE_REPLICA_URL needs PostgreSQL: a streaming "
                             "replica of the PostgreSQL server LOOM_DATABASE_URL names")
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'loom.db').as_posix()}"

    def open_database(self) -> Database:
        """The database these settings name, with their busy timeout."""
        from loom.platform.storage.database import Database

        return Database.open(self.resolved_database_url(),
                             busy_timeout_ms=self.busy_timeout_ms,
                             replica_url=self.database_replica_url,
                             replica_max_lag=self.database_replica_max_lag_seconds,
                             replica_retry_seconds=self.database_replica_retry_seconds)

    def link_base(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url().startswith("sqlite")
