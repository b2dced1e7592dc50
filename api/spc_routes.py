"""The SPC read routes: every chart's state (the live view), one chart's points, limits,
zones and violations over a range, and its capability (the store, read in a history
job: never on the event loop). docs/API.md "SPC"; the changes are in `api.spc_acts`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from api.context import ApiContext, ApiError, Ctx, error_docs, v1_router
from api.history import history_range, page_size
from api.offload import run_job
from api.plant_time import calendar_of
from api.quality_routes import Day, From, Shift, To, requested_span
from api.schemas import ApiTime
from api.spc_data import ChartQuery, Specs, capability_job, chart_job
from api.spc_schemas import CapabilityOut, ChartOut, ChartsOut
from api.spc_views import chart_state, find_chart, zones
from edge.config.spc import ChartConfig

__all__ = ["chart_of", "router"]

router = v1_router(machine_routes=False)
# What a chart's range answer takes of its state (the latest point's fields are in `points`).
_HEAD = ("chart", "machine", "source", "name", "kind", "unit", "tag", "phase", "limits", "spec")
_UNKNOWN = "Unknown chart (`known`: the configured ones)"


def chart_of(ctx: ApiContext, chart: str) -> ChartConfig:
    """The configured chart, or a 404 naming the known ones."""
    found = find_chart(ctx.config, chart)
    if found is None:
        known = [c.id for c in ctx.config.spc.charts]
        listed = ", ".join(known) or "none (spc.charts is empty)"
        raise ApiError(404, f"unknown SPC chart '{chart}'; known charts: {listed}", known)
    return found


@router.get("/spc/charts", tags=["spc"], response_model=ChartsOut)
async def list_charts(ctx: Ctx) -> ChartsOut:
    """Every configured chart as it stands: its latest point, limits and phase (the
    `…/spc/{chart}` payload, plus `machine` and `source`), in config order."""
    states = [chart_state(ctx.config, ctx.live, c) for c in ctx.config.spc.charts]
    return ChartsOut.model_validate({"charts": states})


@router.get(
    "/spc/charts/{chart}",
    tags=["spc"],
    response_model=ChartOut,
    responses=error_docs(
        e404=_UNKNOWN,
        e422="Bad range or `limit`",
        e501="The history store keeps no SPC points for the API",
        e503="History store unavailable",
    ),  # fmt: skip
)
async def get_chart(
    chart: str,
    ctx: Ctx,
    from_: Annotated[
        ApiTime | None,
        Query(alias="from", description="RFC 3339 with offset; default: `to` minus 1 h"),
    ] = None,
    to: Annotated[ApiTime | None, Query(description="RFC 3339 with offset; default: now")] = None,
    shift: Shift = None,
    limit: Annotated[
        int | None, Query(ge=1, description="the latest N points (at most api.limits.max_rows)")
    ] = None,
) -> Response:
    """The chart's points of [from, to) (or of a `shift`; default the last hour) with the
    limits each was judged against, the limits and zones now, its rules and the
    violations of the range. Points beyond `limit`: the latest."""
    c = chart_of(ctx, chart)
    start, end = _range(ctx, c, from_, to, shift)
    state = chart_state(ctx.config, ctx.live, c)
    rules = {"western_electric": c.rules.western_electric, "nelson": c.rules.nelson}
    head = {k: state[k] for k in _HEAD} | {"rules": rules, "zones": zones(state["limits"])}
    q = ChartQuery(chart, start, end, page_size(ctx, limit))
    return Response(await run_job(ctx, chart_job, q, head), media_type="application/json")


def _range(
    ctx: ApiContext, c: ChartConfig, start: datetime | None, end: datetime | None,
    shift: str | None,
) -> tuple[datetime, datetime]:  # fmt: skip
    if shift is None:
        return history_range(ctx, start, end, ctx.clock())
    if start is not None or end is not None:
        raise ApiError(422, "give `shift` alone, without `from`/`to`")
    span = requested_span(ctx, calendar_of(ctx, c.machine), None, None, shift, None)
    return span.start, span.end


@router.get(
    "/spc/charts/{chart}/capability",
    tags=["spc"],
    response_model=CapabilityOut,
    responses=error_docs(
        e404=_UNKNOWN + ", a shift or day that does not run, or no points of the product",
        e422="Bad range; an attributes chart or one without a spec (the detail says which)",
        e501="The history store keeps no SPC points for the API",
        e503="History store unavailable",
    ),
)
async def get_capability(
    chart: str, ctx: Ctx, from_: From = None, to: To = None, shift: Shift = None,
    day: Day = None,
    product: Annotated[
        str | None, Query(description="whose readings and spec (default: the latest point's)")
    ] = None,
) -> Response:  # fmt: skip
    """Process capability of the chart's readings in the range (default: the current
    shift, else the current plant day): Cp, Cpk, Cpu, Cpl from the within-subgroup σ
    (R̄/d2, S̄/c4, MR̄/d2), Pp, Ppk from the overall σ, Cpm about the target, their 95 %
    confidence intervals, and the readings out of spec (observed, and expected under the
    normal model, in ppm). One product at a time: its spec (docs/SPC.md "Capability")."""
    c = chart_of(ctx, chart)
    if not c.variables:
        raise ApiError(422, f"capability is for variables charts; {chart} is a {c.kind} chart")
    last = ctx.live.spc_points.get(chart)
    chosen = product if product is not None else last.product if last is not None else None
    spec = c.spec_for(chosen)
    if spec is None or (spec.lsl is None and spec.usl is None):
        raise ApiError(422, f"chart {chart} has no spec limits: give spc.charts[].spec")
    span = requested_span(ctx, calendar_of(ctx, c.machine), from_, to, shift, day)
    q = ChartQuery(chart, span.start, span.end, ctx.config.api.limits.max_history_rows)
    specs = Specs(c.spec_for(None), {p: s for p in c.products if (s := c.spec_for(p))})
    body = await run_job(ctx, capability_job, q, c.kind, specs, chosen)
    return Response(body, media_type="application/json")
