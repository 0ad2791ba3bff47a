"""Email over real SMTP (``LOOM_SMTP_URL``: ``smtp://user:pass@host:port``, ``smtps://`` for
TLS, ``?starttls=true`` to upgrade a plain connection)."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib


class DeliveryError(Exception):
    """A side effect could not be delivered this time (it will be retried)."""


class EmailTransport:
    def __init__(self, smtp_url: str | None, mail_from: str) -> None:
        self.smtp_url = smtp_url
        self.mail_from = mail_from

    def build(self, payload: dict[str, Any], key: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = payload.get("from") or self.mail_from
        message["To"] = ", ".join(payload["to"])
        if payload.get("cc"):
            message["Cc"] = ", ".join(payload["cc"])
        message["Subject"] = payload.get("subject", "")
        message["Date"] = formatdate(localtime=False)
        # the same side effect always carries the same Message-ID, so a repeat after a
        # crash can be recognised by the receiving side
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        # (make_msgid would add the moment and the process: a repeat would differ)
        message["Message-ID"] = f"<{digest}@loom>"
        message.set_content(payload.get("text") or "")
        if payload.get("html"):
            message.add_alternative(payload["html"], subtype="html")
        return message

    async def send(self, payload: dict[str, Any], key: str) -> None:
        if not self.smtp_url:
            raise DeliveryError("no mail server is configured (set LOOM_SMTP_URL)")
        if not payload.get("to"):
            raise DeliveryError("the email has no recipient")
        url = urlparse(self.smtp_url)
        options = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            await aiosmtplib.send(
                self.build(payload, key), hostname=url.hostname or "localhost",
                port=url.port or (465 if url.scheme == "smtps" else 25),
                username=unquote(url.username) if url.username else None,
                password=unquote(url.password) if url.password else None,
                use_tls=url.scheme == "smtps",
                start_tls=options.get("starttls", "").lower() in ("1", "true", "yes"),
                timeout=30)
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"mail server {url.hostname}: {exc}") from exc
