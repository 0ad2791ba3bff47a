"""Serial numbers such as ``HT-{YYYY}{MM}-{seq:4}``: a counter per field and period,
advanced atomically (two creates at the same moment never get the same number)."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.storage.system_tables import serial_counters

TOKEN = re.compile(r"\{(YYYY|YY|MM|DD|seq(?::(\d{1,2}))?)\}")


def period_of(pattern: str, moment: datetime) -> str:
    """The counter restarts each period the pattern shows (day, month, year, or never)."""
    if "{DD}" in pattern:
        return moment.strftime("%Y%m%d")
    if "{MM}" in pattern:
        return moment.strftime("%Y%m")
    if "{YYYY}" in pattern or "{YY}" in pattern:
        return moment.strftime("%Y")
    return "all"


def render(pattern: str, moment: datetime, number: int) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("seq"):
            width = int(match.group(2) or 1)
            return str(number).zfill(width)
        return {"YYYY": f"{moment.year:04d}", "YY": f"{moment.year % 100:02d}",
                "MM": f"{moment.month:02d}", "DD": f"{moment.day:02d}"}[token]

    return TOKEN.sub(replace, pattern)


async def next_serial(conn: AsyncConnection, app_id: int, entity: str, field: str,
                      pattern: str, now: datetime, tz: tzinfo) -> str:
    local = now.astimezone(tz)
    period = period_of(pattern, local)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(serial_counters).values(
        app_id=app_id, entity=entity, field=field, period=period, value=1)
    statement = statement.on_conflict_do_update(
        index_elements=["app_id", "entity", "field", "period"],
        set_={"value": serial_counters.c.value + 1},
    ).returning(serial_counters.c.value)
    number = (await conn.execute(statement)).scalar_one()
    return render(pattern, local, number)
