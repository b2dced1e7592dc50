"""Shift occurrences and plant days named in a query: `?shift=current|previous|{date}/{name}`
and `?day=current|previous|{date}`, resolved in the plant's calendar.

A finished one is a range [start, end) (figures from the store); the current one is the
live `shift` (or `day`) window when it is configured, else the range [start, now). One
that does not run (or has not begun) is a 404 naming it, with the nearest ids as
`known`; a malformed one a 422 with the calendar's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from api.context import ApiError
from oee.calendar import Calendar, PlantDay, ShiftInstance

__all__ = ["Chosen", "choose_day", "choose_shift"]

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Chosen:
    """A shift or a day a query named: its live window (the current one, when that window
    is configured) or its range [start, end) to compute from the store."""

    window: str | None
    start: datetime
    end: datetime
    shift: ShiftInstance | None = None
    day: PlantDay | None = None


def choose_shift(cal: Calendar, value: str, now: datetime, live: bool) -> Chosen:
    """The shift `value` names (`live`: the `shift` window is configured)."""
    if value == "current":
        s = cal.shift_at(now)
        if s is None:
            raise ApiError(
                404, "no shift is running now (no shift planned)", _near_shifts(cal, now)
            )
    elif value == "previous":
        s = cal.previous_shift(now)
        if s is None:
            raise ApiError(404, "no shift ended in the last 8 days", [])
    else:
        try:
            s = cal.shift_by_id(value)
        except ValueError as e:
            raise ApiError(422, f"query.shift: {e}") from None
        if s is None or s.start > now:
            near = _near_shifts(cal, _noon(cal, value.partition("/")[0]))
            why = "does not run" if s is None else "has not begun"
            raise ApiError(404, f"shift '{value}' {why}; nearest: {', '.join(near)}", near)
    return _chosen("shift", s.start, s.end, now, live, shift=s)


def choose_day(cal: Calendar, value: str, now: datetime, live: bool) -> Chosen:
    """The plant day `value` names (`live`: the `day` window is configured)."""
    today = cal.plant_day(now)
    if value == "current":
        d = today
    elif value == "previous":
        d = cal.day_of(today.date - _DAY)
    else:
        try:
            d = cal.day_of(date.fromisoformat(value))
        except ValueError:
            raise ApiError(
                422, f"query.day: {value!r} is not a plant date: write e.g. 2026-12-06"
            ) from None
        if d.start > now:
            known = [today.id, cal.day_of(today.date - _DAY).id]
            raise ApiError(404, f"day '{value}' has not begun; nearest: {', '.join(known)}", known)
    return _chosen("day", d.start, d.end, now, live, day=d)


def _chosen(
    window: str,
    start: datetime,
    end: datetime,
    now: datetime,
    live: bool,
    shift: ShiftInstance | None = None,
    day: PlantDay | None = None,
) -> Chosen:
    if end <= now:
        return Chosen(None, start, end, shift, day)
    return Chosen(window if live else None, start, now, shift, day)


def _noon(cal: Calendar, day_text: str) -> datetime:
    """Midday of a plant date (the id's date was checked by `shift_by_id`)."""
    d = cal.day_of(date.fromisoformat(day_text))
    return d.start + (d.end - d.start) / 2


def _near_shifts(cal: Calendar, t: datetime) -> list[str]:
    """The ids of the shift occurrences within a day of `t`, newest first."""
    return [s.id for s in reversed(cal.shifts_between(t - _DAY, t + _DAY))]
