"""Plan versus actual and the changeovers (issue 19): `GET /plan` for a shift, a plant day
or a week of the plant's calendar (`oee.plan.plan_actual` over the running gateway's
book and the good parts the store counted in each order's run), the recorded
changeovers of a range and their per-pair figures (`oee.changeovers.pair_stats`). The
store is read, and the figures computed, in a history job: never on the event loop.
docs/API.md "Orders"; docs/OEE.md "Orders, plan and changeovers"."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import Query
from fastapi.responses import Response

from api.context import ApiContext, ApiError, Ctx, error_docs, find_machine, v1_router
from api.history import check_span, limits
from api.offload import run_job
from api.order_data import PlanQuery, changeovers_job, matrix_job, plan_job
from api.order_schemas import ChangeoversOut, MatrixOut, PlanOut
from api.order_views import order_engine
from api.plant_time import FromQuery, ToQuery, calendar_of, plant_time, query_range
from api.schemas import rfc3339
from oee.calendar import Calendar

__all__ = ["router"]

router = v1_router(machine_routes=False)
Period = Literal["shift", "day", "week"]
#: Without `from`: the changeovers of the 28 days before `to` (a trend needs weeks).
DEFAULT_DAYS = 28
MachineQuery = Annotated[
    str | None, Query(description="only this machine's (and its calendar); default: all")
]
_RANGE_ERRORS = error_docs(
    e404="Unknown machine", e422="Bad range", e501="The history store keeps no changeovers "
    "for the API", e503="History store unavailable",
)  # fmt: skip


def _period(cal: Calendar, period: Period, at: datetime) -> tuple[str, datetime, datetime]:
    """(id, start, end) of the shift, plant day or week (Monday's plant day to the next
    Monday's) holding `at`; a 404 when no shift runs then."""
    if period == "shift":
        s = cal.shift_at(at)
        if s is None:
            raise ApiError(404, f"no shift runs at {rfc3339(at)} in the plant's calendar")
        return s.id, s.start, s.end
    day = cal.plant_day(at)
    if period == "day":
        return day.id, day.start, day.end
    monday: date = day.date - timedelta(days=day.date.weekday())
    return monday.isoformat(), cal.day_of(monday).start, cal.day_of(monday + timedelta(7)).start


@router.get(
    "/plan",
    tags=["orders"],
    response_model=PlanOut,
    responses=error_docs(
        e404="Unknown machine, or no shift runs at `at`",
        e422="Bad `at` or `period`",
        e503="History store unavailable, or no running gateway (read-only API)",
    ),  # fmt: skip
)
async def get_plan(
    ctx: Ctx,
    period: Annotated[Period, Query(description="the shift, plant day or week holding `at`")],
    at: Annotated[
        str | None, Query(description="RFC 3339 with offset, or a plant date; default: now")
    ] = None,
    machine: MachineQuery = None,
) -> Response:
    """Plan versus actual of the period, as known now: planned and produced good parts,
    attainment, schedule adherence (volume x mix, sequence, in window) and on-time
    delivery by count and quantity, with the orders behind each figure (docs/OEE.md
    "Plan versus actual"). The book's orders (of `machine`, else all) in the calendar
    of `machine` (else the plant's); `unplanned` lists those without a planned start."""
    if machine is not None:
        find_machine(ctx, machine)
    cal, now = calendar_of(ctx, machine), ctx.clock()
    when = plant_time(at, "at", cal, end=False) or now
    ident, start, end = _period(cal, period, when)
    q = _plan_query(ctx, machine, cal, start, end, now)
    body = await run_job(ctx, plan_job, q)
    out = PlanOut.model_validate({**body, "period": period, "id": ident, "timezone": cal.tz})
    return Response(out.model_dump_json(by_alias=True), media_type="application/json")


def _plan_query(
    ctx: ApiContext, machine: str | None, cal: Calendar, start: datetime, end: datetime,
    now: datetime,
) -> PlanQuery:  # fmt: skip
    """The book's orders and runs; the counts are read from the earliest start among
    them (at most `api.limits.max_range_days` before the period)."""
    engine = order_engine(ctx)
    orders = tuple(o for o in engine.book.orders.values() if machine in (None, o.machine))
    runs = {o.id: engine.book.runs[o.id].run() for o in orders}
    starts = [r.started for r in runs.values() if r.started is not None]
    floor = start - timedelta(days=limits(ctx).max_range_days)
    since = max(floor, min([start, *starts]))
    return PlanQuery(orders, runs, cal, start, end, now, since)


def _range(
    ctx: ApiContext, machine: str | None, start: str | None, end: str | None
) -> tuple[datetime, datetime]:
    if machine is not None:
        find_machine(ctx, machine)
    begin, stop = query_range(start, end, calendar_of(ctx, machine))
    stop = stop or ctx.clock()
    begin = begin or stop - timedelta(days=DEFAULT_DAYS)
    if begin >= stop:
        raise ApiError(422, "`from` must be earlier than `to`")
    check_span(ctx, begin, stop)
    return begin, stop


@router.get("/changeovers", tags=["orders"], response_model=ChangeoversOut, responses=_RANGE_ERRORS)
async def get_changeovers(
    ctx: Ctx, machine: MachineQuery = None, from_: FromQuery = None, to: ToQuery = None
) -> Response:
    """The recorded changeovers that started in [from, to) (default: the 28 days before
    now), by start, as `…/changeover` carried them; the first `api.limits.max_rows`."""
    start, end = _range(ctx, machine, from_, to)
    body = await run_job(ctx, changeovers_job, machine, start, end, limits(ctx).max_rows)
    out = ChangeoversOut.model_validate(body)
    return Response(out.model_dump_json(by_alias=True), media_type="application/json")


@router.get(
    "/changeovers/matrix", tags=["orders"], response_model=MatrixOut, responses=_RANGE_ERRORS
)
async def get_matrix(
    ctx: Ctx, machine: MachineQuery = None, from_: FromQuery = None, to: ToQuery = None
) -> Response:
    """Per product pair (from, to) of the changeovers that started in [from, to): count,
    median, p90, trend (s/week; null below 3), the configured standard and the loss
    against it (docs/OEE.md "Changeovers")."""
    start, end = _range(ctx, machine, from_, to)
    most = limits(ctx).max_history_rows
    body = await run_job(ctx, matrix_job, machine, start, end, most, ctx.config.orders)
    out = MatrixOut.model_validate(body)
    return Response(out.model_dump_json(by_alias=True), media_type="application/json")
