"""A flow instance being moved by one command, with what the command runs in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.flows.navigator import CompiledFlow, Navigator
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.context import WriteBudget
from loom.platform.security.actors import Actor

# the columns of an instance a command changes; written once, when the command saves it
STATE = ("joins", "step", "status", "outcome", "ended_at")


def state_of(row: dict[str, Any]) -> dict[str, Any]:
    return {name: dict(row[name]) if name == "joins" else row.get(name) for name in STATE}


@dataclass
class Instance:
    """An instance being moved by one command. What the command changes collects here —
    the instance's state in ``row``, its history in ``history`` — and is written when the
    command saves the instance (``FlowRuntime.save``)."""

    conn: AsyncConnection
    runtime: AppRuntime
    actor: Actor
    row: dict[str, Any]
    flow: CompiledFlow
    now: datetime
    budget: WriteBudget
    # the record as this command last read or wrote it (None: read it when needed)
    record: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    stored: dict[str, Any] = field(default_factory=dict)  # the state as in the database
    saved: bool = False  # written (one version up) by this command
    opened: set[int] = field(default_factory=set)  # activations it opened, still waiting

    def __post_init__(self) -> None:
        self.stored = state_of(self.row)

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def navigator(self) -> Navigator:
        return Navigator(self.flow)
