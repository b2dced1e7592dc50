"""Quality routes: a machine's or a line's first-pass yield, scrap rate, defect Pareto
(and a line's rolled throughput yield) of a shift, a plant day or a `from`/`to` range,
from the stored counts and booked scrap (a history job: never on the event loop)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.calendar_views import shift_out
from api.context import ApiContext, ApiError, Ctx, error_docs, find_line, find_machine, v1_router
from api.history import check_span, limits
from api.offload import run_job
from api.plant_periods import Chosen, choose_day, choose_shift
from api.plant_time import calendar_of, query_range
from api.quality_data import MachineInputs, QualityQuery, quality_job
from api.quality_schemas import LineQualityOut, MachineQualityOut
from api.quality_views import Span, line_quality, machine_quality
from api.schemas import DayOut
from edge.engines.lines import LineSpec
from oee.calendar import Calendar

router = v1_router()

_ERRORS = error_docs(
    e404="Unknown machine or line, or a `shift`/`day` that does not run or has not begun "
    "(`known`: the nearest)",
    e422="Bad range, shift or day, or more stored rows than `api.limits.max_history_rows` "
    "(the detail says which)",
    e503="History store unavailable",
)

From = Annotated[
    str | None,
    Query(
        alias="from",
        description="RFC 3339 with offset, or a plant date (its start): the figures of "
        "(from, to] (at most `api.limits.max_range_days`)",
        examples=["2026-12-06T06:00:00Z", "2026-12-06"],
    ),
]
To = Annotated[
    str | None,
    Query(description="RFC 3339 with offset, or a plant date (its end); needs `from`; "
          "default: now"),
]  # fmt: skip
Shift = Annotated[
    str | None,
    Query(
        description="`current`, `previous` or `{date}/{name}`: that shift (the current "
        "one until now); alone. Default (nothing given): the current shift, or the "
        "current plant day when no shift runs",
        examples=["current", "2026-12-06/late"],
    ),
]
Day = Annotated[
    str | None,
    Query(description="`current`, `previous` or a plant date: that plant day; alone"),
]


def requested_span(
    ctx: ApiContext,
    cal: Calendar,
    start: str | None,
    end: str | None,
    shift: str | None,
    day: str | None,
) -> Span:
    """The range a request names (`from`/`to`, `shift` or `day`; nothing: the current
    shift, else the current plant day), or a 404/422 saying why not."""
    if shift is not None and day is not None:
        raise ApiError(422, "give either `shift` or `day`, not both")
    if (shift is not None or day is not None) and (start is not None or end is not None):
        raise ApiError(422, "give `shift` or `day` alone, without `from`/`to`")
    now = ctx.clock()
    if start is None and end is None:
        if shift is None and day is None:  # the current shift, else the current day
            shift, day = ("current", None) if cal.shift_at(now) else (None, "current")
        if shift is not None:
            return _chosen(choose_shift(cal, shift, now, live=False))
        return _chosen(choose_day(cal, day or "current", now, live=False))
    begin, stop = query_range(start, end, cal)
    if begin is None:
        raise ApiError(422, "`from` is required with `to`")
    stop = stop or now
    if begin >= stop:
        raise ApiError(422, "`from` must be earlier than `to` (`to` defaults to now)")
    check_span(ctx, begin, stop)
    return Span(begin, stop)


def _chosen(c: Chosen) -> Span:
    shift = shift_out(c.shift) if c.shift is not None else None
    day = DayOut(date=c.day.date.isoformat(), start=c.day.start, end=c.day.end) if c.day else None
    return Span(c.start, c.end, shift, day)


async def _inputs(ctx: ApiContext, machines: list[str], span: Span) -> dict[str, MachineInputs]:
    query = QualityQuery(tuple(machines), span.start, span.end, limits(ctx).max_history_rows)
    return await run_job(ctx, quality_job, query)


@router.get("/quality/machines/{machine_id}", tags=["quality"], responses=_ERRORS)
async def get_machine_quality(
    machine_id: str, ctx: Ctx, from_: From = None, to: To = None, shift: Shift = None,
    day: Day = None,
) -> MachineQualityOut:  # fmt: skip
    """A machine's first-pass yield (good / total), scrap rate (reject / total), the same
    by product, and its defect Pareto by reject reason (the scrap booked by hand by
    reason, then the rejects nobody booked), of the counts in (from, to]; `flags` say
    what is held out or cannot be told (docs/SPC.md "Quality figures")."""
    find_machine(ctx, machine_id)
    span = requested_span(ctx, calendar_of(ctx, machine_id), from_, to, shift, day)
    data = await _inputs(ctx, [machine_id], span)
    return machine_quality(ctx.config, span, machine_id, data)


@router.get("/quality/lines/{line}", tags=["quality"], responses=_ERRORS)
async def get_line_quality(
    line: str, ctx: Ctx, from_: From = None, to: To = None, shift: Shift = None,
    day: Day = None,
) -> LineQualityOut:  # fmt: skip
    """A line's quality figures: its machines' counts and Pareto summed, and the rolled
    throughput yield, the product of the machines' first-pass yields in line order
    (`machines`); a machine without an FPY (no parts) is left out and named in
    `missing`."""
    machines = find_line(ctx, line)
    span = requested_span(ctx, calendar_of(ctx, line=line), from_, to, shift, day)
    data = await _inputs(ctx, machines, span)
    spec = LineSpec.of(ctx.config, line)
    return line_quality(ctx.config, span, line, machines, data, (spec.mode, spec.bottleneck))
