"""The entries of a record's timeline and what each of its sources offers
(``timeline.py`` merges them; ``timeline_sources.py`` and ``timeline_activities.py`` make
them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from loom.engines.field_values.coercion import to_json

# Among entries of one moment, what a person did happened before what it set off (newest
# first, the effects are shown above their cause).
RANKS = {"activity": 0, "history": 1, "flow": 2, "email": 3, "notification": 4}


@dataclass
class Entry:
    """One thing that happened, as the reader sees it."""

    source: str
    id: int
    at: datetime | None
    type: str
    title: str
    by: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)  # detail name → user id
    names: dict[int, str] = field(default_factory=dict)

    @property
    def rank(self) -> int:
        return RANKS[self.source.split(":")[0]]

    def person(self, user_id: int | None) -> dict[str, Any] | None:
        return None if user_id is None else {"id": user_id,
                                             "name": self.names.get(user_id, "")}

    def as_json(self) -> dict[str, Any]:
        return {"id": f"{self.source}:{self.id}", "type": self.type, "at": to_json(self.at),
                "title": self.title, "by": self.person(self.by), **self.details,
                **{name: self.person(user) for name, user in self.people.items()}}


Rows = tuple[list[tuple[Any, Entry | None]], bool]


class Source(Protocol):
    name: str

    async def read(self, position: Any, limit: int) -> Rows:
        """Up to ``limit`` rows after ``position`` (None: the newest), each with its own
        position and its entry (None when hidden), and whether more may follow."""
        ...

    async def finish(self, entries: list[Entry]) -> None:
        """Complete the entries shown from this source (names of what they reference)."""
        ...
