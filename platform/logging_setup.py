"""Structured JSON logs (one object per line), with the request id when there is one, and
with secrets masked (``loom.platform.security.redaction``) whoever logged them."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from loom.platform.security.redaction import redact, redact_text

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": redact_text(record.getMessage())}
        entry.update({k: redact(v, k) for k, v in record.__dict__.items()
                      if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class RedactingFormatter(logging.Formatter):
    """The plain-text format (LOOM_LOG_JSON=false), masked the same way."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def configure_logging(json_logs: bool = True, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_logs else RedactingFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True
    # schema comparisons configure Alembic on every publish; its chatter is not news
    logging.getLogger("alembic").setLevel(logging.WARNING)
