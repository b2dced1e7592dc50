"""Response models of `GET /api/v1/calendar`: the plant's clock as the live page needs it
(the time zone, the shifts, the current shift instance and its progress, the plant day)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas import Out, ShiftOut, Timestamp


class ShiftDefOut(Out):
    """A configured shift, local wall-clock times of the calendar's zone."""

    name: str
    start: str = Field(description="local start, HH:MM or HH:MM:SS", examples=["14:00"])
    end: str = Field(description="local end; at or before `start`: the next day")
    days: list[str] = Field(description="weekdays it starts on: mon … sun")


class CurrentShiftOut(ShiftOut):
    """The occurrence in progress and how far it is."""

    progress: float = Field(description="elapsed / length, 0..1 (4 decimals)")
    elapsed_s: float
    remaining_s: float


class PlantDayOut(Out):
    """The plant day in progress: `day_start` to the next `day_start`, local."""

    date: str = Field(description="YYYY-MM-DD, plant-local date of its start")
    start: Timestamp
    end: Timestamp


class PlannedStopOut(Out):
    """Planned non-production time (a break, maintenance, no order, other) in the range
    the page draws: the current shift, else the plant day."""

    kind: Literal["break", "maintenance", "no_order", "other"]
    name: str | None
    start: Timestamp
    end: Timestamp


class CalendarOut(Out):
    """`GET /api/v1/calendar`: the calendar that applies (a machine's own, else its
    line's, else the plant's; `calendar` says which) at `now`."""

    calendar: Literal["machine", "line", "plant", "default"] = Field(
        description="whose calendar this is; default: none configured (24/7 in UTC)"
    )
    timezone: str = Field(
        description="IANA time zone of the plant clock", examples=["Europe/Berlin"]
    )
    day_start: str = Field(description="local start of the plant day, HH:MM[:SS]")
    now: Timestamp
    shifts: list[ShiftDefOut] = Field(description="empty: no shifts, scheduled around the clock")
    shift: CurrentShiftOut | None = Field(
        description="the shift instance in progress; null: no shift planned now (or no shifts)"
    )
    next_shift: ShiftOut | None = Field(description="the next one to start (within 8 days)")
    day: PlantDayOut
    planned_stops: list[PlannedStopOut]
    language: Literal["auto", "en", "de"] = Field(
        description="`api.language`: the live page's language; auto: the browser's"
    )
    scope: Literal["read", "operate", "admin"] = Field(
        description="what the key of this request may do (admin on an API without keys): "
        "the page offers an operator's changes from operate up"
    )
