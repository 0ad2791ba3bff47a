"""The one mapping from errors to HTTP: RFC 9457 problem+json, with per-field ``errors``
in the reader's language. No traceback ever reaches a client. The OpenAPI document says
so: routes declare the refusals they may answer with ``refusals(...)``, each pointing at
the one ``Problem`` schema."""

from __future__ import annotations

import copy
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from loom.metamodel.errors import LoomError, RetryLater
from loom.metamodel.i18n import DEFAULT_LOCALE, pick_locale
from loom.platform.api import openapi_schemas
from loom.platform.api.responses import ProblemResponse
from loom.platform.storage.busy import busy_error
from loom.renderers.openapi import BODY_REFUSALS, PROBLEM, problem_responses

log = logging.getLogger("loom.api")

HTTP_TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Permission denied",
               404: "Not found", 405: "Method not allowed", 409: "Conflict",
               413: "Payload too large", 415: "Unsupported media type",
               422: "Unprocessable content", 428: "Precondition required",
               429: "Too many requests", 500: "Internal server error",
               503: "Service busy"}


# What any authenticated command may answer: a malformed request (400), no or a bad token
# (401), not permitted (403), parameters that fail their declaration (422).
COMMAND_REFUSALS = (400, 401, 403, 422)


def refusals(*codes: int, body: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route's refusals (``body``: it reads a request body,
    which may be malformed, too large or invalid)."""
    return dict(problem_responses(*codes, *(BODY_REFUSALS if body else ())))


def request_locale(request: Request) -> str:
    """The reader's language: the request's ``Accept-Language`` when it names zh or en,
    else the signed-in user's saved language, else zh-CN."""
    saved = getattr(request.state, "reader_locale", None) or DEFAULT_LOCALE
    return pick_locale(request.headers.get("accept-language"), default=saved)


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
    if isinstance(exc, RetryLater):
        headers = {"Retry-After": str(exc.retry_after)}
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
    busy = busy_error(exc)  # a busy database met outside its transactions: still a 503
    if busy is not None:
        return _loom_error(request, busy)
    # a sync handler runs in a worker thread, where sys.exc_info() is empty: pass it on
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return internal_error(request)


def internal_error(request: Request) -> ProblemResponse:
    """What a client learns of a bug: that it happened, and the request id to report."""
    return problem(request, 500, "internal-error", "Internal server error",
                   "Something went wrong on our side; the error was logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(LoomError, _loom_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    _describe_problems(app)


def _describe_problems(app: FastAPI) -> None:
    """Say so in the OpenAPI document: error answers are problem+json (FastAPI would
    describe its 422 as plain JSON, and an error declared by its description alone with no
    content), all pointing at the one Problem schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        problem = {"application/problem+json": {"schema": PROBLEM}}
        for item in document.get("paths", {}).values():
            for operation in item.values():
                responses = operation.get("responses") if isinstance(operation, dict) else None
                if responses is None:
                    continue
                # no catch-all "default": an answer the route does not declare is a defect
                # the API fuzzing (tests/platform/api/test_schemathesis.py) must see
                for code, response in responses.items():
                    if code[:1] in ("4", "5") and (code == "422" or "content" not in response):
                        response["content"] = dict(problem)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(copy.deepcopy(openapi_schemas.SCHEMAS))
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
