"""Business calendars: working hours per weekday, holidays and make-up working days
(调休), by name in ``app.calendars``. SLA clocks run on them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Interval = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$",
                                description="working hours, e.g. 09:00-12:00")]
Weekday = Annotated[str, Field(pattern=r"^(mon|tue|wed|thu|fri|sat|sun)$")]


class CalendarSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str | None = Field(default=None, description="Default: the app's time zone")
    hours: dict[Weekday, list[Interval]] = Field(
        default_factory=dict, description="e.g. {'mon': ['09:00-12:00', '13:00-18:00']}")
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list,
                                 description="make-up working days, worked with Monday's hours")
