"""Browser sessions: a session token (kind "session" in the token store) in an HttpOnly
cookie, and a CSRF token the page's script echoes in a header on every unsafe request.

The CSRF token is derived from the session token with HMAC (the "signed double submit" of
OWASP's cheat sheet): a page of another site can neither read the ``loom_csrf`` cookie nor
compute the value, and a cookie planted from a sibling subdomain does not match the session.
"""

from __future__ import annotations

import hashlib
import hmac

SESSION_COOKIE = "loom_session"
CSRF_COOKIE = "loom_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token_for(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"loom-csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(csrf_token_for(session_token).encode(),
                               presented.encode("utf-8", "replace"))
