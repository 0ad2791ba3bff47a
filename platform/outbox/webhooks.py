"""Webhooks: a JSON POST signed with HMAC-SHA256 so the receiver can trust it.

Headers: ``X-Loom-Delivery`` (the idempotency key), ``X-Loom-Timestamp`` (seconds), and
``X-Loom-Signature: sha256=<hex>`` over ``"<timestamp>.<body>"`` with the webhook's secret,
read at delivery time from the environment variable the webhook names (``secret_env``), so
secrets never sit in metadata or in the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

import httpx
import simplejson

from loom.platform.outbox.email import DeliveryError


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class WebhookTransport:
    def __init__(self, client: httpx.AsyncClient | None = None, timeout: float = 10.0) -> None:
        self.client = client
        self.timeout = timeout

    async def send(self, payload: dict[str, Any], key: str, timestamp: int) -> None:
        body = simplejson.dumps(payload.get("body", {}), use_decimal=True, ensure_ascii=False,
                                default=str).encode()
        headers = {"Content-Type": "application/json", "X-Loom-Delivery": key,
                   "X-Loom-Timestamp": str(timestamp), "User-Agent": "Loom-Webhook/1"}
        secret_env = payload.get("secret_env")
        if secret_env:
            secret = os.environ.get(secret_env)
            if not secret:
                raise DeliveryError(f"the webhook secret variable {secret_env} is not set")
            headers["X-Loom-Signature"] = sign(secret, timestamp, body)
        try:
            if self.client is not None:
                response = await self.client.post(payload["url"], content=body,
                                                   headers=headers, timeout=self.timeout)
            else:
                async with httpx.AsyncClient() as client:
                    response = await client.post(payload["url"], content=body, headers=headers,
                                                 timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{payload.get('url')}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"{payload.get('url')} answered {response.status_code}")
