"""Pure builders of the calendar answer from an `oee.calendar.Calendar` at an instant."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from api.calendar_schemas import (
    CurrentShiftOut,
    PlannedStopOut,
    PlantDayOut,
    ShiftDefOut,
    ShiftOut,
)
from edge.config.oee import WEEKDAYS
from oee.calendar import Calendar, ShiftInstance

#: How far ahead the next shift is looked for (a week of shifts and a day of margin).
NEXT_SHIFT_WITHIN = timedelta(days=8)


def wall_time(t: time) -> str:
    """`06:00`, or `06:00:30` when it has seconds (the form the config takes)."""
    return t.isoformat(timespec="seconds" if t.second else "minutes")


def shift_defs(cal: Calendar) -> list[ShiftDefOut]:
    """The configured shifts, in their listing order."""
    return [
        ShiftDefOut(
            name=s.name,
            start=wall_time(s.start),
            end=wall_time(s.end),
            days=[WEEKDAYS[d] for d in sorted(s.days)],
        )
        for s in cal.shifts
    ]


def shift_out(s: ShiftInstance) -> ShiftOut:
    """The agreed shift object: `{id, name, date, start, end}`."""
    assert s.day is not None  # made by a calendar
    return ShiftOut(id=s.id, name=s.name, date=s.day.isoformat(), start=s.start, end=s.end)


def current_shift(s: ShiftInstance, now: datetime) -> CurrentShiftOut:
    """`s` with its progress at `now` (elapsed and remaining clamped to the shift)."""
    length = (s.end - s.start).total_seconds()
    elapsed = min(length, max(0.0, (now - s.start).total_seconds()))
    return CurrentShiftOut(
        **shift_out(s).model_dump(),
        progress=round(elapsed / length, 4) if length > 0 else 1.0,
        elapsed_s=round(elapsed, 3),
        remaining_s=round(length - elapsed, 3),
    )


def next_shift(cal: Calendar, now: datetime) -> ShiftOut | None:
    """The first occurrence that starts after `now` (None without shifts)."""
    later = [s for s in cal.shifts_between(now, now + NEXT_SHIFT_WITHIN) if s.start > now]
    return shift_out(later[0]) if later else None


def plant_day(cal: Calendar, now: datetime) -> PlantDayOut:
    """The plant day containing `now`, dated by the local date of its start."""
    start, end = cal.day_window(now)
    return PlantDayOut(date=cal.local_date(start).isoformat(), start=start, end=end)


def planned_stops(cal: Calendar, start: datetime, end: datetime) -> list[PlannedStopOut]:
    """The breaks and planned periods of [start, end); the time outside shifts is left
    out (the page says "no shift planned" for it instead)."""
    return [
        PlannedStopOut(kind=p.kind, name=p.name, start=p.start, end=p.end)
        for p in cal.planned_stops(start, end)
        if p.kind != "no_shift"
    ]
