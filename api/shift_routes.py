"""`GET /api/v1/shifts` and `GET /api/v1/days`: the shift occurrences and plant days of a
range in the plant's calendar, newest first, each with whether it has finished and
whether it is the current one; open one with `?shift=` / `?day=` on the figure routes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Query
from pydantic import Field

from api.context import ApiContext, ApiError, Ctx, error_docs, find_line, find_machine, v1_router
from api.history import check_span
from api.plant_time import FromQuery, ToQuery, calendar_of, query_range
from api.schemas import DayOut, Out, ShiftOut, Timestamp
from oee.calendar import Calendar

router = v1_router()

#: Without `from`: the last 7 plant days (today and the 6 before).
DEFAULT_DAYS = 7


class ShiftRow(ShiftOut):
    """A shift occurrence; `finished`: it has ended; `current`: it runs now."""

    finished: bool
    current: bool


class DayRow(DayOut):
    """A plant day; `finished`: it has ended; `current`: it is today."""

    finished: bool
    current: bool


class Listing(Out):
    """The range listed (`from`, `to`) and the calendar's time zone (IANA)."""

    timezone: str = Field(examples=["Europe/Berlin"])
    from_: Timestamp = Field(serialization_alias="from")
    to: Timestamp


class ShiftsOut(Listing):
    """`GET /api/v1/shifts`: the shift occurrences overlapping [from, to), newest first."""

    shifts: list[ShiftRow]


class DaysOut(Listing):
    """`GET /api/v1/days`: the plant days overlapping [from, to), newest first."""

    days: list[DayRow]


MachineQuery = Annotated[
    str | None, Query(description="whose calendar (a machine's own, its line's or the plant's)")
]
LineQuery = Annotated[str | None, Query(description="whose calendar: a line's (or `machine`)")]
_ERRORS = error_docs(e404="Unknown machine or line", e422="Bad range (the detail says which)")


def _listing(
    ctx: ApiContext, machine: str | None, line: str | None, start: str | None, end: str | None
) -> tuple[Calendar, datetime, datetime, datetime]:
    """The calendar, [from, to) (default: the last 7 plant days up to now) and now."""
    if machine is not None and line is not None:
        raise ApiError(422, "give at most one of `machine` and `line`")
    if machine is not None:
        find_machine(ctx, machine)
    if line is not None:
        find_line(ctx, line)
    cal = calendar_of(ctx, machine, line)
    now = ctx.clock()
    begin, stop = query_range(start, end, cal)
    stop = stop if stop is not None else now
    if begin is None:
        begin = cal.day_of(cal.plant_day(stop).date - timedelta(days=DEFAULT_DAYS - 1)).start
    if begin >= stop:
        raise ApiError(422, "`from` must be earlier than `to`")
    check_span(ctx, begin, stop)
    return cal, begin, stop, now


@router.get("/shifts", tags=["shifts"], responses=_ERRORS)
async def get_shifts(
    ctx: Ctx,
    from_: FromQuery = None,
    to: ToQuery = None,
    machine: MachineQuery = None,
    line: LineQuery = None,
) -> ShiftsOut:
    """The shift occurrences overlapping [from, to) (default: the last 7 plant days),
    newest first, each `{id, name, date, start, end, finished, current}`; open one with
    `GET …/oee?shift={id}`. Without shifts in the calendar (24/7) the list is empty."""
    cal, begin, stop, now = _listing(ctx, machine, line, from_, to)
    rows = [
        ShiftRow(
            id=s.id,
            name=s.name,
            date=s.id.partition("/")[0],
            start=s.start,
            end=s.end,
            finished=s.end <= now,
            current=s.start <= now < s.end,
        )  # fmt: skip
        for s in reversed(cal.shifts_between(begin, stop))
    ]
    return ShiftsOut(timezone=cal.tz, from_=begin, to=stop, shifts=rows)


@router.get("/days", tags=["shifts"], responses=_ERRORS)
async def get_days(
    ctx: Ctx,
    from_: FromQuery = None,
    to: ToQuery = None,
    machine: MachineQuery = None,
    line: LineQuery = None,
) -> DaysOut:
    """The plant days (`day_start` to the next, 23 or 25 h across DST) overlapping
    [from, to) (default: the last 7), newest first; open one with `GET …/oee?day={date}`."""
    cal, begin, stop, now = _listing(ctx, machine, line, from_, to)
    rows = [
        DayRow(
            date=d.id,
            start=d.start,
            end=d.end,
            finished=d.end <= now,
            current=d.start <= now < d.end,
        )  # fmt: skip
        for d in reversed(cal.days_between(begin, stop))
    ]
    return DaysOut(timezone=cal.tz, from_=begin, to=stop, days=rows)
