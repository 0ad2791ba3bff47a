"""Fixtures of the fault tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiosmtpd.controller import Controller
from fault_kit import SlowInbox, SlowReceiver
from fixture_kit import free_port


@pytest.fixture
def slow_smtp() -> Iterator[tuple[SlowInbox, int]]:
    """A slow SMTP server on 127.0.0.1 and its port."""
    inbox, port = SlowInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
async def slow_webhooks() -> AsyncIterator[tuple[SlowReceiver, int]]:
    """A slow webhook receiver on 127.0.0.1 and its port."""
    receiver, port = SlowReceiver(), free_port()
    server = await receiver.listen(port)
    yield receiver, port
    server.close()
