"""What long work reports as it goes — units done of a total, the step it is at — and what
it has done so far, should it stop half-way. The same work reports to a terminal (the CLI
runs it in the foreground) or to an operation a client follows (``OperationProgress``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.i18n import LOCALES, localize


@dataclass(frozen=True)
class Step:
    """Where the work is: a stable name and a label people read (text or {locale: text})."""

    name: str
    label: Any

    def as_json(self) -> dict[str, Any]:
        """Kept in every language (a message, a label), shown in the reader's."""
        label = self.label if isinstance(self.label, str) else {
            locale: localize(self.label, locale) for locale in LOCALES}
        return {"name": self.name, "label": label}


class Progress:
    """Figures noted by the work; ``save`` runs in each transaction it commits, so what was
    saved (``saved``) describes committed work only."""

    def __init__(self) -> None:
        self.done = 0
        self.total: int | None = None
        self.step: Step | None = None
        self.so_far: dict[str, Any] = {}  # the work's own account (records per entity …)
        self.saved: dict[str, Any] = {}  # ``so_far`` as of the last commit

    def note(self, done: int, total: int | None = None, step: Step | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if step is not None:
            self.step = step
        self.show()

    def show(self) -> None:
        """Show the figures as they are noted (a terminal); nothing by default."""

    async def save(self, conn: AsyncConnection) -> None:
        self.saved = copy.deepcopy(self.so_far)
        await self.keep(conn)

    async def keep(self, conn: AsyncConnection) -> None:
        """Keep the figures in the committing transaction (an operation); nothing by
        default."""
