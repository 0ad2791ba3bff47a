"""The session's cookies: ``loom_session`` (HttpOnly: no script can read the token) and
``loom_csrf`` (readable, so the page's script can echo it in ``X-CSRF-Token``). Both are
SameSite=Lax, and Secure when the request came over HTTPS."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response

from loom.platform.security.sessions import CSRF_COOKIE, SESSION_COOKIE, csrf_token_for


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookies(request: Request, response: Response, token: str,
                        lifetime: timedelta) -> None:
    """Put the session and its CSRF token in the response's cookies."""
    csrf = csrf_token_for(token)
    seconds = int(lifetime.total_seconds())
    secure = is_https(request)
    response.set_cookie(SESSION_COOKIE, token, max_age=seconds, path="/", secure=secure,
                        httponly=True, samesite="lax")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=seconds, path="/", secure=secure,
                        httponly=False, samesite="lax")


def clear_session_cookies(request: Request, response: Response) -> None:
    secure = is_https(request)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True,
                           samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, httponly=False,
                           samesite="lax")
