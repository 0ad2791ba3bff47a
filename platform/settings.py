"""One settings object, read from the environment (``LOOM_…``), with embedded-mode defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    smtp_url: str | None = None
    mail_from: str = "loom@localhost"
    admin_email: str | None = None
    admin_password: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Sessions, CSRF and webhook signatures; generated and kept under data_dir when unset.
    secret_key: str | None = None
    # Largest request body accepted (bytes).
    max_body_bytes: int = 10 * 1024 * 1024
    # PostgreSQL: how long DDL may wait for a lock while publishing before giving up.
    ddl_lock_timeout_ms: int = 5000
    token_days: int = 30
    log_json: bool = True

    @field_validator("database_url")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return async_database_url(value) if value else value

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'loom.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url().startswith("sqlite")
