"""Keeping secrets out of logs: tokens, passwords, Authorization and Cookie values, password
hashes and passwords inside URLs are masked in every log line, whatever wrote it (our code,
a library, an exception's message).

This is the safety net; the first line is not to log them at all (the request log has the
path without its query string, SQL parameters are hidden from error messages).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "[redacted]"
SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|authorization|cookie|csrf|api[_-]?key|credential",
    re.IGNORECASE)
_PATTERNS = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    # our tokens: bearer, session and reset tokens all start with loom_
    (re.compile(r"\bloom_(?:reset_)?[A-Za-z0-9_-]{20,}"), "loom_" + MASK),
    (re.compile(r"\$argon2(?:id|i|d)\$[A-Za-z0-9$=,+/.-]+"), "$argon2" + MASK),
    # user:password@ in URLs (smtp://…, postgresql://…)
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@/\s]+@", re.IGNORECASE),
     r"\1" + MASK + "@"),
    # password=…, "token": "…", Authorization: Bearer …, Cookie: … in text
    (re.compile(r"(?i)([\w-]*(?:pass(?:word|wd)?|secret|token|authorization|cookie|csrf)"
                r"[\w-]*[\"']?\s*[:=]\s*)(?!\[redacted\])"
                r"((?:bearer|basic)\s+\S+|\"[^\"]*\"|'[^']*'|[^\s,;&)]+)"), r"\1" + MASK),
]


# what each pattern above needs in the text: most log lines have none of it, and one scan
# for that is much cheaper than every pattern's substitution
_MAYBE_SECRET = re.compile(r"(?i)bearer|basic|loom_|\$argon2|://|pass|secret|token|"
                           r"authorization|cookie|csrf")


def redact_text(text: str) -> str:
    if not _MAYBE_SECRET.search(text):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, key: str | None = None) -> Any:
    """``value`` with secrets masked: whole values under sensitive keys, patterns in text."""
    if key is not None and SENSITIVE_KEY.search(key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
