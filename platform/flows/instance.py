"""A flow instance being moved by one command, with what the command runs in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.flows.navigator import CompiledFlow, Navigator
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.context import WriteBudget
from loom.platform.security.actors import Actor


@dataclass
class Instance:
    """An instance being moved by one command."""

    conn: AsyncConnection
    runtime: AppRuntime
    actor: Actor
    row: dict[str, Any]
    flow: CompiledFlow
    now: datetime
    budget: WriteBudget

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def navigator(self) -> Navigator:
        return Navigator(self.flow)
