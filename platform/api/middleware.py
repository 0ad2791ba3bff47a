"""Request ids, one structured log line per request, the last guard against a traceback
reaching a client, and a bound on request bodies. (Security headers and CORS:
``hardening.py``.)"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loom.platform import metrics
from loom.platform.api.problems import internal_error
from loom.platform.settings import Settings

log = logging.getLogger("loom.access")
errors = logging.getLogger("loom.api")


class RequestContext:
    """Give every request an id (honouring a sane incoming X-Request-ID), echo it back, and
    log method, path (never the query string, which may carry secrets), status and
    duration as JSON. An error nothing else handled is logged here and answered with a
    bare problem+json 500 that passes the outer middleware (security headers) like any
    other response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode(
            "latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() \
            else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500, "started": False}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            errors.error("unhandled error", exc_info=exc, extra={
                "request_id": request_id, "path": scope.get("path")})
            if status["started"]:
                raise
            await internal_error(Request(scope))(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            metrics.http_requests.labels(scope.get("method", ""), route_template(scope),
                                         str(status["code"])).observe(elapsed)
            log.info("request", extra={
                "request_id": request_id, "method": scope.get("method"),
                "path": scope.get("path"), "status": status["code"],
                "duration_ms": round(elapsed * 1000, 2)})


def route_template(scope: Scope) -> str:
    """The route a request took, as declared (``/api/apps/{app}/records/{entity}``): what
    metrics count by, never the path itself (unbounded, and it may name people)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    is_page = scope.get("method") in ("GET", "HEAD") and \
        not str(scope.get("path", "")).startswith("/api/")
    return "(pages)" if is_page else "(unmatched)"


class BodyLimit:
    """Refuse a request body larger than ``settings.max_body_bytes`` (413), whichever route
    reads it, and without holding more than that in memory: the routes that parse their
    body with a model (login, users, apps) read it before any code of ours runs."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        received = {"bytes": 0}

        def too_large() -> HTTPException:
            return HTTPException(413, f"The request body is larger than {limit} bytes")

        async def bounded_receive() -> Message:
            if declared.isdigit() and int(declared) > limit:
                raise too_large()
            message = await receive()
            if message["type"] == "http.request":
                received["bytes"] += len(message.get("body", b""))
                if received["bytes"] > limit:
                    raise too_large()
            return message

        await self.app(scope, bounded_receive, send)
