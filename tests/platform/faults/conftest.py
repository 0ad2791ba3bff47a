"""Fixtures of the fault tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from fault_kit import SlowInbox
from fixture_kit import free_port


@pytest.fixture
def slow_smtp() -> Iterator[tuple[SlowInbox, int]]:
    """A slow SMTP server on 127.0.0.1 and its port."""
    inbox, port = SlowInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()
