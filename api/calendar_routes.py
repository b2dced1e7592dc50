"""`GET /api/v1/calendar`: the plant's clock (read scope). The live page draws every time
in this time zone, names the current shift and its progress, and takes its language and
what the key may change from here."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from api.auth import require_api_key
from api.calendar_schemas import CalendarOut
from api.calendar_views import (
    current_shift,
    next_shift,
    planned_stops,
    plant_day,
    shift_defs,
    wall_time,
)
from api.context import ApiContext, ApiError, Ctx, error_docs, find_line, find_machine, v1_router
from edge.config import ApiKeyConfig
from edge.config.oee import DEFAULT_CALENDAR
from oee.calendar import Calendar

router = v1_router()

Whose = Literal["machine", "line", "plant", "default"]


@router.get(
    "/calendar",
    tags=["calendar"],
    responses=error_docs(e422="Both `machine` and `line` given"),
)
async def get_calendar(
    ctx: Ctx,
    key: Annotated[ApiKeyConfig | None, Depends(require_api_key)],
    machine: Annotated[
        str | None, Query(description="the calendar of this machine (its own, its line's, …)")
    ] = None,
    line: Annotated[str | None, Query(description="the calendar of this line")] = None,
) -> CalendarOut:
    """The calendar that applies (a machine's own, else its line's, else the plant's) at
    now: time zone, plant day, shifts, the current shift with its progress, the next one,
    the planned stops of the current shift (else of the plant day); and the page's
    language and the scope of the key used."""
    whose, cal = _which(ctx, machine, line)
    now = ctx.clock()
    shift = cal.shift_at(now)
    day = plant_day(cal, now)
    start, end = (shift.start, shift.end) if shift is not None else (day.start, day.end)
    return CalendarOut(
        calendar=whose,
        timezone=cal.tz,
        day_start=wall_time(cal.day_start),
        now=now,
        shifts=shift_defs(cal),
        shift=None if shift is None else current_shift(shift, now),
        next_shift=next_shift(cal, now),
        day=day,
        planned_stops=planned_stops(cal, start, end),
        language=ctx.config.api.language,
        scope="admin" if key is None else key.scope,
    )


def _which(ctx: ApiContext, machine: str | None, line: str | None) -> tuple[Whose, Calendar]:
    """The calendar asked for and whose it is; 404 for an unknown machine or line."""
    if machine is not None and line is not None:
        raise ApiError(422, "give `machine` or `line`, not both (a machine's line is implied)")
    config = ctx.config
    if machine is not None:
        find_machine(ctx, machine)
        own = config.machine(machine).calendar
        if own is not None:
            return "machine", own.to_calendar()
        line = config.line_of(machine)
    elif line is not None:
        find_line(ctx, line)
    line_cfg = config.lines.get(line) if line is not None else None
    if line_cfg is not None and line_cfg.calendar is not None:
        return "line", line_cfg.calendar.to_calendar()
    if config.calendar is not None:
        return "plant", config.calendar.to_calendar()
    return "default", DEFAULT_CALENDAR
