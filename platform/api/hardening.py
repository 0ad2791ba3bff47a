"""What every response carries for the browser's protection, and who may call from another
origin.

- Security headers on every response, errors included: no MIME sniffing, no framing
  (``X-Frame-Options`` and CSP ``frame-ancestors``), a same-origin referrer, a strict
  Content-Security-Policy (``LOOM_CONTENT_SECURITY_POLICY``; the web app's pages and the
  API explorer set their own, ``web_app.py``), HSTS when the request came over HTTPS, and
  ``Cache-Control: no-store`` on answers of ``/api/auth/…`` (tokens, sessions).
- CORS: no origin but the API's own may call it, unless ``LOOM_CORS_ORIGINS`` lists some;
  those may send bearer tokens (never cookies: sessions stay same-site).
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loom.metamodel.i18n import message, pick_locale, register_messages
from loom.platform.api.responses import ProblemResponse
from loom.platform.settings import Settings

register_messages({
    "cors_refused": {
        "en": "A cross-origin request from {origin} is not allowed ({failures}); "
              "LOOM_CORS_ORIGINS lists the origins that may call this API",
        "zh-CN": "不允许来自 {origin} 的跨域请求（{failures}）；可调用本 API 的来源由 "
                 "LOOM_CORS_ORIGINS 列出",
    },
})

CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_REQUEST_HEADERS = ("authorization", "content-type", "if-match", "accept-language",
                        "x-request-id")
CORS_EXPOSED_HEADERS = ("etag", "location", "retry-after", "x-request-id")


class SecurityHeaders:
    """Add the security headers to every response (a header the route set itself wins)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.common = [("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"),
                       ("referrer-policy", "same-origin"),
                       ("cross-origin-opener-policy", "same-origin")]
        self.csp = settings.content_security_policy
        self.hsts = f"max-age={settings.hsts_seconds}" if settings.hsts_seconds else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        added = [*self.common,
                 ("content-security-policy", self.csp)]
        if self.hsts and scope.get("scheme") == "https":
            added.append(("strict-transport-security", self.hsts))
        if path.startswith("/api/auth/"):
            added.append(("cache-control", "no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class StrictCORS(CORSMiddleware):
    """Starlette's CORS middleware, answering a refused preflight with problem+json."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        failures = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        detail = message("cors_refused", origin=request_headers.get("origin", ""),
                         failures=failures)
        return ProblemResponse({
            "type": "urn:loom:problem:cross-origin-refused", "title": "Cross-origin refused",
            "status": 400, "errors": [],
            "detail": detail.render(pick_locale(request_headers.get("accept-language")))},
            status_code=400)


def cors_options(settings: Settings) -> dict[str, object]:
    return {"allow_origins": list(settings.cors_origins), "allow_methods": CORS_METHODS,
            "allow_headers": CORS_REQUEST_HEADERS, "expose_headers": CORS_EXPOSED_HEADERS,
            "allow_credentials": False, "max_age": 600}
