"""Telling a busy database from a broken one. A busy database — a lock that other work
still holds after the bounded wait, a deadlock the server broke, no connection free, the
server refusing connections for now — is worth trying again shortly: it becomes
``ServiceBusy`` (503 with ``Retry-After``). Anything else stays the error it is."""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

from loom.metamodel.errors import LoomError, ServiceBusy
from loom.metamodel.i18n import message, register_messages

RETRY_AFTER_SECONDS = 2
SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
# PostgreSQL SQLSTATEs: lock_not_available, deadlock_detected, serialization_failure, the
# server shutting down or starting up; and the classes connection exception (08) and
# insufficient resources (53: too many connections, out of memory or disk)
PG_BUSY = {"55P03", "40P01", "40001", "57P01", "57P02", "57P03"}
PG_BUSY_CLASSES = {"08", "53"}

register_messages({
    "service_busy": {
        "en": "The database is busy with other work; nothing was changed. Try again in "
              "{seconds} second(s).",
        "zh-CN": "数据库正忙于其他工作，本次请求未做任何更改。请 {seconds} 秒后重试。",
    },
})


def service_busy() -> ServiceBusy:
    return ServiceBusy(message("service_busy", seconds=RETRY_AFTER_SECONDS),
                       retry_after=RETRY_AFTER_SECONDS)


def busy_error(error: BaseException) -> ServiceBusy | None:
    """``ServiceBusy`` when ``error`` says the database is busy or out of reach for now
    (an error the platform already decided on, such as a publish's lock timeout, stays)."""
    if isinstance(error, LoomError):
        return None
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return service_busy()
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return service_busy()  # the server cut the connection (restart, failover)
    for cause in _causes(error):
        if isinstance(cause, sqlite3.OperationalError) and \
                str(cause).lower().startswith(SQLITE_BUSY):
            return service_busy()
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(state, str) and (state in PG_BUSY or state[:2] in PG_BUSY_CLASSES):
            return service_busy()
        if isinstance(cause, ConnectionError):  # refused or reset: the server is away
            return service_busy()
    return None


def _causes(error: BaseException) -> list[BaseException]:
    """The error, the driver's error SQLAlchemy wraps, and what each was raised from."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or current in found or len(found) > 8:
            continue
        found.append(current)
        todo += [getattr(current, "orig", None), current.__cause__]
    return found
