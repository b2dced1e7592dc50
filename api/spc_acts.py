"""The SPC changes: freeze a chart's limits from a Phase I baseline (or preview them),
set them by hand, unfreeze them (admin key), and readings entered by hand (operate key).
Each goes to the running gateway's SPC engine and out through the outbox like any other
event (MQTT `…/spc/{chart}`, the store's `spc_limits`, SSE): who did it is the key's name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends

from api.auth import operator_name
from api.context import (
    ADMIN,
    OPERATE,
    ApiContext,
    ApiError,
    Ctx,
    admin_docs,
    operate_docs,
    require_control,
    v1_router,
)
from api.offload import run_job
from api.spc_data import ChartQuery, points_job
from api.spc_routes import chart_of
from api.spc_schemas import BaselineIn, BaselineOut, ChartStateOut, LimitsIn, MeasurementIn
from api.spc_views import chart_state, point_document, violation_document
from connectors.common.spcdoc import limits_document
from core.interfaces import SpcHistory
from core.spc import SpcLimitsChange
from edge.engines.spc import SpcEngine
from edge.engines.spc_views import BaselineError, UnknownChart
from oee.spc import Limits

__all__ = ["router"]

router = v1_router(machine_routes=False)
By = Annotated[str, Depends(operator_name)]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ERRORS = {
    "e404": "Unknown chart (`known`: the configured ones)",
    "e422": "A baseline or limits that cannot be used (the detail says why and what to do)",
    "e503": "No running gateway (read-only API)",
}


def _engine(ctx: ApiContext) -> SpcEngine:
    engine = require_control(ctx).engines.get("spc")
    if not isinstance(engine, SpcEngine):
        raise ApiError(503, "the running gateway has no SPC engine")
    return engine


async def _emit(ctx: ApiContext, engine: SpcEngine) -> None:
    await require_control(ctx).emit(engine.drain())


@router.post(
    "/spc/charts/{chart}/limits", tags=["spc"], dependencies=ADMIN,
    response_model=BaselineOut, responses=admin_docs(**_ERRORS),
)  # fmt: skip
async def freeze_limits(chart: str, body: BaselineIn, ctx: Ctx, by: By) -> BaselineOut:
    """Phase I: the limits of a baseline, `from`/`to` or the `last` N points, with the
    points of an assignable cause (`exclude`, by seq) left out; its points judged against
    them and the violations inside it. Unless `preview`, the limits are frozen (Phase II)
    and every later point is judged against them: who (the key's name) and when are kept
    and published. Recalculation is only ever this explicit act."""
    c = chart_of(ctx, chart)
    if (body.last is None) == (body.from_ is None and body.to is None):
        raise ApiError(422, "give the baseline as `from` and `to`, or as `last`, not both")
    if body.last is None and (body.from_ is None or body.to is None):
        raise ApiError(422, "a baseline range needs both `from` and `to`")
    engine = _engine(ctx)
    now = ctx.clock()
    stored = await _stored(ctx, c.id, body, now)
    try:
        found = engine.freeze(c.id, body.from_, body.to, body.last, body.exclude, by, now,
                              body.preview, stored)  # fmt: skip
    except BaselineError as exc:
        raise ApiError(422, str(exc)) from None
    await _emit(ctx, engine)
    change = found.change or SpcLimitsChange(
        c.id, c.machine, now, "preview", found.limits, by, found.baseline_from,
        found.baseline_to, found.excluded,
    )  # fmt: skip
    return BaselineOut.model_validate({
        "chart": c.id, "frozen": found.change is not None,
        "limits": limits_document(change),
        "points": [point_document(p) for p in found.points],
        "violations": [violation_document(v) for v in found.violations],
        "excluded": list(found.excluded),
    })  # fmt: skip


async def _stored(ctx: ApiContext, chart: str, body: BaselineIn, now: datetime) -> list[Any]:
    """The stored points of the baseline (the engine holds only the latest ones)."""
    if not isinstance(ctx.history, SpcHistory):
        return []
    if body.last is not None:
        q = ChartQuery(chart, _EPOCH, now, body.last)
    else:
        assert body.from_ is not None and body.to is not None
        q = ChartQuery(chart, body.from_, body.to, ctx.config.api.limits.max_history_rows)
    return list(await run_job(ctx, points_job, q))


@router.put(
    "/spc/charts/{chart}/limits", tags=["spc"], dependencies=ADMIN,
    response_model=ChartStateOut, responses=admin_docs(**_ERRORS),
)  # fmt: skip
async def set_limits(chart: str, body: LimitsIn, ctx: Ctx, by: By) -> ChartStateOut:
    """Limits set by hand (e.g. from a capability study or the customer's): Phase II at
    once. σ of one reading defaults to (UCL − CL)/3 (× √n for an x̄ chart)."""
    c = chart_of(ctx, chart)
    engine = _engine(ctx)
    n = float(c.size) if c.variables else 0.0
    sigma = body.sigma
    if sigma is None:
        sigma = (body.ucl - body.center) / 3 * (n**0.5 if n > 1 else 1.0) if c.variables else 0.0
    limits = Limits(c.kind, body.center, sigma, n, body.ucl, body.lcl, body.spread_center,
                    body.spread_ucl, body.spread_lcl, source="manual")  # fmt: skip
    try:
        engine.set_limits(c.id, limits, by, ctx.clock())
    except BaselineError as exc:
        raise ApiError(422, str(exc)) from None
    await _emit(ctx, engine)
    return ChartStateOut.model_validate(chart_state(ctx.config, ctx.live, c))


@router.delete(
    "/spc/charts/{chart}/limits", tags=["spc"], dependencies=ADMIN,
    response_model=ChartStateOut, responses=admin_docs(**_ERRORS),
)  # fmt: skip
async def unfreeze(chart: str, ctx: Ctx, by: By) -> ChartStateOut:
    """Back to Phase I: the frozen limits are dropped (kept in the limits history), and
    trial limits are computed again from the next `baseline_subgroups` points."""
    c = chart_of(ctx, chart)
    engine = _engine(ctx)
    engine.unfreeze(c.id, by, ctx.clock())
    await _emit(ctx, engine)
    return ChartStateOut.model_validate(chart_state(ctx.config, ctx.live, c))


@router.post(
    "/spc/charts/{chart}/measurements", tags=["spc"], dependencies=OPERATE,
    response_model=ChartStateOut, responses=operate_docs(**_ERRORS),
)  # fmt: skip
async def measure(chart: str, body: MeasurementIn, ctx: Ctx, by: By) -> ChartStateOut:
    """Readings measured by hand on a `source: manual` chart (a gauge, a lab result):
    they join the chart's open subgroup; a full one is judged and published like any
    point. A reading outside the chart's physical range (`valid`) is refused."""
    c = chart_of(ctx, chart)
    engine = _engine(ctx)
    try:
        engine.measure(c.id, body.values, body.ts or ctx.clock(), by)
    except BaselineError as exc:
        raise ApiError(422, str(exc)) from None
    except UnknownChart as exc:
        raise ApiError(404, str(exc), exc.known) from None
    await _emit(ctx, engine)
    return ChartStateOut.model_validate(chart_state(ctx.config, ctx.live, c))
