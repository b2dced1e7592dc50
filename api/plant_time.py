"""The plant's clock in queries: `from`/`to` as an RFC 3339 time or a plant date.

A plant date (`2026-12-06`) as `from` is the start of that plant day (the calendar's
`day_start` in its time zone), as `to` its end (the next day's start): 23 or 25 hours
across a DST change. The calendar is the one of what is asked about: a machine's (its
own, its line's or the plant's), a line's (of its first machine) or the plant's.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from api.context import ApiContext, ApiError
from api.schemas import TIME_RANGE, in_time_range
from edge.config import DEFAULT_CALENDAR
from oee.calendar import Calendar

__all__ = ["FromQuery", "ToQuery", "calendar_of", "plant_time", "query_range"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AWARE = TypeAdapter(AwareDatetime)

_HOW = "write an RFC 3339 time with an offset (2026-12-06T06:00:00Z) or a plant date (2026-12-06)"

FromQuery = Annotated[
    str | None,
    Query(
        alias="from",
        description="RFC 3339 with offset, or a plant date (2026-12-06: the start of that "
        "plant day in the calendar's time zone)",
        examples=["2026-12-06T06:00:00Z", "2026-12-06"],
    ),
]
ToQuery = Annotated[
    str | None,
    Query(
        description="RFC 3339 with offset, or a plant date (2026-12-06: the end of that "
        "plant day); default: now",
        examples=["2026-12-06T14:00:00Z", "2026-12-06"],
    ),
]


def calendar_of(ctx: ApiContext, machine: str | None = None, line: str | None = None) -> Calendar:
    """The calendar that applies: the machine's, else the line's first machine's, else
    the plant's (24/7 in UTC without one)."""
    cfg = ctx.config
    if machine is None and line is not None:
        machine = next(iter(cfg.line_machines(line)), None)
    if machine is not None:
        return cfg.calendar_for(machine)
    return cfg.calendar.to_calendar() if cfg.calendar is not None else DEFAULT_CALENDAR


class _Bad(ValueError):
    """What is wrong with one parameter (its path first)."""


def plant_time(value: str | None, name: str, calendar: Calendar, *, end: bool) -> datetime | None:
    """`value` of query parameter `name` as an aware datetime: RFC 3339 with an offset,
    or a plant date (its day's start; with `end`, its end). A 422 naming the parameter
    and the two forms it takes otherwise (in the API's one form, `invalid request: …`)."""
    try:
        return _parse(value, name, calendar, end)
    except _Bad as e:
        raise ApiError(422, f"invalid request: {e}") from None


def _parse(value: str | None, name: str, calendar: Calendar, end: bool) -> datetime | None:
    if value is None:
        return None
    if _DATE.fullmatch(value):
        try:
            day = calendar.day_of(date.fromisoformat(value))
        except (ValueError, OverflowError):
            raise _Bad(f"query.{name}: {value} is not a date: {_HOW}") from None
        t = day.end if end else day.start
    else:
        try:
            t = _AWARE.validate_python(value)
        except ValidationError:
            raise _Bad(f"query.{name}: {_HOW}") from None
    if not in_time_range(t):
        shown = value.replace("+00:00", "Z") if "T" in value else value
        raise _Bad(f"query.{name}: {TIME_RANGE}, not {shown}")
    return t


def query_range(
    start: str | None, end: str | None, calendar: Calendar
) -> tuple[datetime | None, datetime | None]:
    """`from` and `to` of a query, each as `plant_time` reads it; one 422 naming both
    when both are wrong."""
    out: list[datetime | None] = []
    wrong: list[str] = []
    for value, name, is_end in ((start, "from", False), (end, "to", True)):
        try:
            out.append(_parse(value, name, calendar, is_end))
        except _Bad as e:
            wrong.append(str(e))
    if wrong:
        raise ApiError(422, "invalid request: " + "; ".join(wrong))
    return out[0], out[1]
