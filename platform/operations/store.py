"""The ``operations`` table: an operation is queued by the request that starts it (in that
request's transaction), running while a task of the server works on it, and ends
``succeeded`` with its result or ``failed`` with its error (a problem document) and, where
the work got part of the way, what it did before it stopped.

Errors are kept in both languages and shown in the reader's; who may see an operation:
whoever started it, and the workspace's administrators."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import LoomError, NotFound
from loom.metamodel.i18n import LOCALES, Message, localize, message, register_messages
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import apps, operations

Status = Literal["queued", "running", "succeeded", "failed"]
STATUSES = ("queued", "running", "succeeded", "failed")
UNFINISHED = ("queued", "running")

register_messages({
    "operation_not_found": {"en": "There is no operation {id}", "zh-CN": "不存在操作 {id}"},
    "operation_interrupted": {
        "en": "The server stopped while this operation ran; what it had done before stays "
              "(see its result)",
        "zh-CN": "该操作运行期间服务器已停止；此前已完成的部分会保留（见结果）",
    },
    "operation_crashed": {"en": "Something went wrong on our side; the error was logged",
                          "zh-CN": "服务器内部出错，错误已记录"},
})


async def create(conn: AsyncConnection, actor: Actor, kind: str, *, app_id: int | None,
                 params: dict[str, Any], now: datetime) -> int:
    """Queue an operation (the caller launches it once its transaction commits)."""
    return int((await conn.execute(insert(operations).values(
        workspace_id=actor.workspace_id, app_id=app_id, kind=kind, status="queued",
        params=params, done=0, started_by=actor.user_id, created_at=now)
        .returning(operations.c.id))).scalar_one())


async def mark_running(conn: AsyncConnection, operation_id: int, runner: str,
                       now: datetime) -> None:
    await conn.execute(update(operations).where(operations.c.id == operation_id).values(
        status="running", runner=runner, started_at=now, heartbeat_at=now))


async def save_progress(conn: AsyncConnection, operation_id: int, *, done: int,
                        total: int | None, step: dict[str, Any] | None,
                        now: datetime) -> None:
    await conn.execute(update(operations).where(operations.c.id == operation_id).values(
        done=done, total=total, step=step, heartbeat_at=now))


async def finish(conn: AsyncConnection, operation_id: int, *, status: Status,
                 result: dict[str, Any] | None, error: dict[str, Any] | None,
                 now: datetime) -> None:
    await conn.execute(update(operations).where(operations.c.id == operation_id).values(
        status=status, result=result, error=error, finished_at=now, heartbeat_at=now))


async def heartbeat(conn: AsyncConnection, runner: str, now: datetime) -> None:
    """This process is alive: its running operations say so."""
    await conn.execute(update(operations).where(
        operations.c.runner == runner, operations.c.status == "running")
        .values(heartbeat_at=now))


async def fail_abandoned(conn: AsyncConnection, now: datetime,
                         silent_since: datetime | None) -> int:
    """Fail the unfinished operations whose process is gone: those without a sign of life
    since ``silent_since`` (None: every unfinished one)."""
    query = update(operations).where(operations.c.status.in_(UNFINISHED))
    if silent_since is not None:
        query = query.where(func.coalesce(operations.c.heartbeat_at, operations.c.created_at)
                            < silent_since)
    result = await conn.execute(query.values(
        status="failed", finished_at=now,
        error=problem_document(interrupted())))
    return result.rowcount or 0


class Interrupted(LoomError):
    """The process running an operation stopped before it ended."""

    status = 503
    type_slug = "interrupted"
    title = "Interrupted"


class Crashed(LoomError):
    """An operation met an error nobody foresaw (logged with its traceback)."""

    status = 500
    type_slug = "internal-error"
    title = "Internal server error"


def interrupted() -> Interrupted:
    return Interrupted(message("operation_interrupted"))


# --- reading -------------------------------------------------------------------------------

def _query(actor: Actor) -> Any:
    """Operations the actor may see: their own; an administrator's, the workspace's."""
    query = (select(operations, apps.c.slug.label("app"))
             .outerjoin(apps, apps.c.id == operations.c.app_id)
             .where(operations.c.workspace_id == actor.workspace_id))
    if not actor.is_admin:
        query = query.where(operations.c.started_by == actor.user_id)
    return query


async def get(conn: AsyncConnection, actor: Actor, operation_id: int) -> dict[str, Any]:
    row = (await conn.execute(_query(actor).where(operations.c.id == operation_id))
           ).mappings().first()
    if row is None:
        raise NotFound(message("operation_not_found", id=operation_id))
    return dict(row)


async def find(conn: AsyncConnection, actor: Actor, *, app: str | None = None,
               status: str | None = None, kind: str | None = None, limit: int = 50,
               before: int | None = None) -> list[dict[str, Any]]:
    """The operations the actor may see, newest first."""
    query = _query(actor).order_by(operations.c.id.desc()).limit(limit)
    conditions = [apps.c.slug == app if app else None,
                  operations.c.status == status if status else None,
                  operations.c.kind == kind if kind else None,
                  operations.c.id < before if before else None]
    wanted = [c for c in conditions if c is not None]
    if wanted:
        query = query.where(and_(*wanted))
    return [dict(row) for row in (await conn.execute(query)).mappings().all()]


def public(row: dict[str, Any], locale: str) -> dict[str, Any]:
    """An operation as the API shows it, in the reader's language."""
    done, total, step = row["done"], row["total"], row["step"]
    return {
        "id": row["id"], "kind": row["kind"], "app": row.get("app"), "status": row["status"],
        "progress": {"done": done, "total": total,
                     "percent": min(100, done * 100 // total) if total else None,
                     "step": {"name": step["name"], "label": localize(step["label"], locale)}
                     if step else None},
        "params": row["params"], "result": row["result"],
        "error": render_problem(row["error"], locale) if row["error"] else None,
        "started_by": row["started_by"], "created_at": row["created_at"],
        "started_at": row["started_at"], "finished_at": row["finished_at"],
        "url": f"/api/operations/{row['id']}"}


# --- errors, kept in every language --------------------------------------------------------

def problem_document(error: BaseException) -> dict[str, Any]:
    """An error as a problem document whose texts are kept in every language."""
    if not isinstance(error, LoomError):
        error = Crashed(message("operation_crashed"))
    return {"type": f"urn:loom:problem:{error.type_slug}", "title": error.title,
            "status": error.status,
            "detail": {locale: error.render_detail(locale) for locale in LOCALES},
            "errors": [{**problem.render(), "message": _texts(problem.message)}
                       for problem in error.problems]}


def _texts(text: Message | str) -> dict[str, str]:
    return {locale: localize(text, locale) for locale in LOCALES}


def render_problem(document: dict[str, Any], locale: str) -> dict[str, Any]:
    return {**document, "detail": localize(document["detail"], locale),
            "errors": [{**item, "message": localize(item["message"], locale)}
                       for item in document.get("errors", [])]}

