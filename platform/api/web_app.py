"""The web app's files: the built single-page app at ``/`` with history-mode fallback, its
content-hashed assets cached for good, and the API explorer (Swagger UI) from the
project's own npm packages — nothing is fetched from elsewhere at run time.

The build (``make install``: ``npm ci`` then ``vite build``) writes ``renderers/web/dist``;
without it ``/`` answers a page saying how to build it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

import loom.renderers

WEB_DIST = Path(loom.renderers.__file__).parent / "web" / "dist"

# The app's own scripts only; styles may be inline (the component library and the grid
# set element styles), which cannot run code.
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
           "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
           "frame-ancestors 'none'")
# Swagger UI starts itself with an inline script.
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
API_PATHS = ("/api/", "/openapi.json")

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Loom</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>Loom is running</h1>
<p>The web app has not been built on this machine. Run <code>make install</code>
(it runs <code>npm ci</code> and the build), then reload this page.</p>
<p>网页应用尚未构建。请运行 <code>make install</code>，然后刷新本页。</p>
<p>The API answers under <a href="/api/health">/api</a>.</p></body></html>"""


class AssetFiles(StaticFiles):
    """Built assets: their names carry a hash of their content, so they never change."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response


def mount_web_app(app: FastAPI, dist: Path = WEB_DIST) -> None:
    """Serve the web app and the API explorer."""
    app.mount("/assets", AssetFiles(directory=dist / "assets", check_dir=False),
              name="web-assets")
    app.mount("/swagger", StaticFiles(directory=dist / "swagger", check_dir=False),
              name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    async def api_explorer() -> Response:
        if not (dist / "swagger" / "swagger-ui-bundle.js").is_file():
            return _not_built()
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="Loom API",
                                   swagger_js_url="/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/swagger/swagger-ui.css",
                                   swagger_favicon_url="data:,")
        page.headers["content-security-policy"] = DOCS_CSP
        return page

    api_default = app.router.default

    async def web_page(scope: Scope, receive: Receive, send: Send) -> None:
        """What no route takes: a page of the app (history mode: the browser's router
        decides what the address shows), except under /api, where it is the API's 404."""
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or \
                path.startswith(API_PATHS):
            await api_default(scope, receive, send)
            return
        index = dist / "index.html"
        response = FileResponse(index, media_type="text/html", headers={
            "cache-control": "no-cache", "content-security-policy": APP_CSP}) \
            if index.is_file() else _not_built()
        await response(scope, receive, send)

    app.router.default = web_page


def _not_built() -> Response:
    return HTMLResponse(NOT_BUILT, status_code=503, headers={"cache-control": "no-store",
                                                             "retry-after": "60"})
