"""The platform's errors. Each one names what is wrong in words a business user reads.

They are mapped to RFC 9457 problem+json in exactly one place (``loom.platform.api.problems``)
and to CLI messages in the CLI; the engines only raise them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loom.metamodel.i18n import DEFAULT_LOCALE, Message, localize


@dataclass(frozen=True)
class Problem:
    """One thing wrong: where (a field name or a dotted metadata path) and what."""

    field: str | None
    message: Message | str | Mapping[str, str]  # a Mapping: a localized text
    code: str | None = None
    index: int | None = None  # position in a batch (bulk writes, imports)

    def render(self, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
        item: dict[str, Any] = {"field": self.field, "message": localize(self.message, locale)}
        if self.code:
            item["code"] = self.code
        if self.index is not None:
            item["index"] = self.index
        return item


class LoomError(Exception):
    """Base of every error the platform reports to a person."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: Message | str | None = None,
                 problems: list[Problem] | None = None, *,
                 extra: dict[str, Any] | None = None) -> None:
        self.detail = detail
        self.problems = list(problems or [])
        # more members of the problem document (RFC 9457 extensions), e.g. what changed
        # under a 409 so the caller can decide without another request
        self.extra = dict(extra or {})
        super().__init__(localize(detail, "en") if detail else self.title)

    def render_detail(self, locale: str = DEFAULT_LOCALE) -> str:
        return localize(self.detail, locale) if self.detail is not None else self.title

    def render_extra(self, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
        """The extension members; a callable value is rendered in the reader's language."""
        return {key: value(locale) if callable(value) else value
                for key, value in self.extra.items()}


class BadRequest(LoomError):
    """The request itself cannot be understood (bad JSON, bad parameter)."""


class ValidationFailed(LoomError):
    status = 422
    type_slug = "validation-failed"
    title = "Validation failed"


class MetadataInvalid(LoomError):
    status = 422
    type_slug = "metadata-invalid"
    title = "Metadata is invalid"


class SchemaChangeRefused(LoomError):
    status = 422
    type_slug = "schema-change-refused"
    title = "Schema change refused"


class NotAuthenticated(LoomError):
    status = 401
    type_slug = "not-authenticated"
    title = "Not authenticated"


class PermissionDenied(LoomError):
    status = 403
    type_slug = "permission-denied"
    title = "Permission denied"


class NotFound(LoomError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Conflict(LoomError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class PreconditionRequired(LoomError):
    status = 428
    type_slug = "precondition-required"
    title = "Precondition required"


class PayloadTooLarge(LoomError):
    status = 413
    type_slug = "payload-too-large"
    title = "Payload too large"


class RetryLater(LoomError):
    """Refused for now, not for good: the answer says when to try again (``retry_after``
    seconds, sent as ``Retry-After``)."""

    def __init__(self, detail: Message | str | None = None, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class TooManyRequests(RetryLater):
    """Refused for a while (e.g. too many failed sign-ins)."""

    status = 429
    type_slug = "too-many-requests"
    title = "Too many requests"


class ServiceBusy(RetryLater):
    """The database could not take the request in time (a lock held by other work, no
    connection free, the server restarting); nothing was changed."""

    status = 503
    type_slug = "service-busy"
    title = "Service busy"


class UnsupportedMediaType(LoomError):
    """A request body of a kind the endpoint does not take (e.g. an upload that is not
    CSV or XLSX)."""

    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"


class InsufficientStorage(LoomError):
    """The server has no room left to keep what was sent (the disk of its files is full);
    nothing was kept."""

    status = 507
    type_slug = "insufficient-storage"
    title = "Insufficient storage"


def describe_error(exc: Exception, locale: str = "en") -> str:
    """An error as one line of text, with each of its problems: for reports kept after the
    request (a job run's failures, the records a handover left behind)."""
    if not isinstance(exc, LoomError):
        return str(exc) or type(exc).__name__
    parts = [exc.render_detail(locale)]
    for problem in exc.problems:
        where = f"{problem.field}: " if problem.field else ""
        parts.append(f"{where}{localize(problem.message, locale)}")
    return "; ".join(parts)
