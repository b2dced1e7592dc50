"""OEE routes: a machine's or a line's figures and losses, of a configured window (live)
or of a `from`/`to` range (computed from stored history)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from api.context import ApiContext, ApiError, Ctx, error_docs, find_line, find_machine, v1_router
from api.oee_data import Period, gather, line_figures, resolve_period
from api.oee_schemas import LineOeeOut, LossesOut
from api.oee_views import line_out, losses_out, oee_out
from api.plant_periods import choose_day, choose_shift
from api.plant_time import calendar_of, query_range
from api.schemas import OeeOut
from edge.engines.lines import LineSpec
from oee.calendar import Calendar

router = v1_router()

_PERIOD_ERRORS = error_docs(
    e404="Unknown machine or line, or a `shift`/`day` that does not run or has not begun "
    "(`known`: the nearest)",
    e422="Bad window, range, shift or day, or more stored rows than "
    "`api.limits.max_history_rows` (the detail says which)",
    e503="History store unavailable (a `from`/`to` range)",
)


@dataclass(frozen=True)
class PeriodArgs:
    """The `window` / `from` / `to` query parameters, resolved once the target is known
    (so an unknown machine or line is a 404 before a bad range is a 422)."""

    window: str | None
    start: str | None
    end: str | None
    shift: str | None = None
    day: str | None = None

    def resolve(self, ctx: ApiContext, calendar: Calendar) -> Period:
        """The period, a plant date in `from`/`to` (or `shift`, `day`) read in `calendar`."""
        if self.shift is not None or self.day is not None:
            return self._chosen(ctx, calendar)
        start, end = query_range(self.start, self.end, calendar)
        return resolve_period(ctx, self.window, start, end, ctx.clock())

    def _chosen(self, ctx: ApiContext, calendar: Calendar) -> Period:
        if self.shift is not None and self.day is not None:
            raise ApiError(422, "give either `shift` or `day`, not both")
        if self.window is not None or self.start is not None or self.end is not None:
            raise ApiError(422, "give `shift` or `day` alone, without `window` or `from`/`to`")
        now, windows = ctx.clock(), ctx.live.windows
        if self.shift is not None:
            c = choose_shift(calendar, self.shift, now, "shift" in windows)
        else:
            assert self.day is not None
            c = choose_day(calendar, self.day, now, "day" in windows)
        if c.window is not None:
            return Period(window=c.window)
        return Period(start=c.start, end=c.end, shift=c.shift, day=c.day)


def period_args(
    window: Annotated[
        str | None,
        Query(description="a configured window, e.g. 15m (default: the first configured)"),
    ] = None,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description="RFC 3339 with offset, or a plant date (2026-12-06: the start of "
            "that plant day): compute [from, to) from stored history (at most "
            "`api.limits.max_range_days`, 92, days) instead of a window's live figures",
            examples=["2026-12-06T06:00:00Z", "2026-12-06"],
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            description="RFC 3339 with offset, or a plant date (the end of that plant "
            "day); needs `from`; default: now",
            examples=["2026-12-06T14:00:00Z", "2026-12-06"],
        ),
    ] = None,
    shift: Annotated[
        str | None,
        Query(
            description="`current`, `previous` or `{date}/{name}` (the plant-local date it "
            "starts on): that shift's figures (a finished one from the store; the current "
            "one: the live `shift` window); alone",
            examples=["2026-12-06/late", "previous"],
        ),
    ] = None,
    day: Annotated[
        str | None,
        Query(
            description="`current`, `previous` or a plant date: that plant day's figures "
            "(`day_start` to `day_start` in the calendar's zone); alone",
            examples=["2026-12-06", "previous"],
        ),
    ] = None,
) -> PeriodArgs:
    return PeriodArgs(window, from_, to, shift, day)


PeriodQuery = Annotated[PeriodArgs, Depends(period_args)]


@router.get("/machines/{machine_id}/oee", tags=["oee"], responses=_PERIOD_ERRORS)
async def get_oee(machine_id: str, ctx: Ctx, period: PeriodQuery) -> OeeOut:
    """A machine's figures, losses and downtime Pareto.

    With `window` (or nothing: the first configured window) the engine's live figures;
    before the engine first computes the window they are null and `computed` is false, so
    a dashboard shows '–' instead of an error. With `from` (and `to`, default now) the
    figures of [from, to) computed from stored history: `start` is `from`, `ts` is `to`.
    """
    m, _ = find_machine(ctx, machine_id)
    p = period.resolve(ctx, calendar_of(ctx, machine_id))
    if p.window is not None:
        return oee_out(machine_id, p.window, m.oee.get(p.window))
    fig = await gather(ctx, [machine_id], p)
    return oee_out(machine_id, None, fig.updates[machine_id], source="history")


@router.get(
    "/lines/{line}/oee",
    tags=["oee"],
    responses=_PERIOD_ERRORS,
)
async def get_line_oee(line: str, ctx: Ctx, period: PeriodQuery) -> LineOeeOut:
    """A line's OEE from its machines' figures: sums of times and ideal-time-weighted
    counts ("sum"), or the bottleneck's A and P with the line's rolled quality
    ("bottleneck"), as the line's `rollup` is configured. A window's figures are the ones
    the gateway last published on `…/{line}/_line/oee/{window}`; before that, and for a
    `from`/`to` range, they are rolled up the same way here. Live figures leave out the
    machines that have none yet and list them in `missing`."""
    find_line(ctx, line)
    spec = LineSpec.of(ctx.config, line)
    p = period.resolve(ctx, calendar_of(ctx, line=line))
    return line_out(line, p, spec, await line_figures(ctx, spec, p))


@router.get(
    "/plant/oee",
    tags=["oee"],
    responses=_PERIOD_ERRORS,
    summary="Plant OEE: every machine of the gateway, summed (`line` is null)",
)
async def get_plant_oee(ctx: Ctx, period: PeriodQuery) -> LineOeeOut:
    """Every machine of the gateway rolled up in "sum" mode (whatever the lines'
    `rollup`): the ratios of the summed times and ideal-time-weighted counts, in the
    answer of `GET /lines/{line}/oee` with `line` null. A window's live figures leave
    out the machines that have none yet and list them in `missing`; `from`/`to` computes
    every machine's figures from stored history."""
    spec = LineSpec.plant(ctx.config)
    p = period.resolve(ctx, calendar_of(ctx))
    return line_out(None, p, spec, await line_figures(ctx, spec, p))


@router.get(
    "/losses",
    tags=["oee"],
    responses=_PERIOD_ERRORS,
)
async def get_losses(
    ctx: Ctx,
    period: PeriodQuery,
    machine: Annotated[str | None, Query(description="a machine id (or give `line`)")] = None,
    line: Annotated[str | None, Query(description="a line (or give `machine`)")] = None,
) -> LossesOut:
    """The six big losses (and idle and unknown downtime) in seconds and OEE points, the
    downtime Pareto by reason, and MTBF/MTTR, of one machine or one line."""
    if (machine is None) == (line is None):
        raise ApiError(422, "give exactly one of `machine` and `line`")
    if machine is not None:
        find_machine(ctx, machine)
        machines = [machine]
    else:
        assert line is not None
        machines = find_line(ctx, line)
    figures = await gather(ctx, machines, period.resolve(ctx, calendar_of(ctx, machine, line)))
    return losses_out(machine, line, figures)
