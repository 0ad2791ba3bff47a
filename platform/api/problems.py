"""The one mapping from errors to HTTP: RFC 9457 problem+json, with per-field ``errors``
in the reader's language. No traceback ever reaches a client."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from loom.metamodel.errors import LoomError
from loom.metamodel.i18n import pick_locale
from loom.platform.api.responses import ProblemResponse

log = logging.getLogger("loom.api")

HTTP_TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Permission denied",
               404: "Not found", 405: "Method not allowed", 409: "Conflict",
               413: "Payload too large", 415: "Unsupported media type",
               422: "Unprocessable content", 428: "Precondition required",
               500: "Internal server error"}


def request_locale(request: Request) -> str:
    return pick_locale(request.headers.get("accept-language"))


def problem(request: Request, status: int, slug: str, title: str, detail: str,
            errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None,
            extra: dict[str, Any] | None = None) -> ProblemResponse:
    body: dict[str, Any] = {"type": f"urn:loom:problem:{slug}", "title": title,
                            "status": status, "detail": detail,
                            "instance": request.url.path}
    body["errors"] = errors or []
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return ProblemResponse(body, status_code=status, headers=headers)


def _loom_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, LoomError)
    locale = request_locale(request)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem(request, exc.status, exc.type_slug, exc.title, exc.render_detail(locale),
                   [p.render(locale) for p in exc.problems], headers,
                   extra=exc.render_extra(locale))


def _validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        location = [str(part) for part in err.get("loc", ()) if part not in ("body",)]
        errors.append({"field": ".".join(location) or None, "message": err.get("msg", "")})
    return problem(request, 422, "invalid-request", "Invalid request",
                   "The request has invalid or missing values", errors)


def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTP_TITLES.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem(request, exc.status_code, title.lower().replace(" ", "-"), title, detail,
                   headers=getattr(exc, "headers", None))


def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem(request, 500, "internal-error", "Internal server error",
                   "Something went wrong on our side; the error was logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(LoomError, _loom_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
