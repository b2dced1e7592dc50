"""The routes: `/api/v1/...` (key-protected) and the operational ones outside it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import AwareDatetime

from api import metrics
from api.auth import require_api_key
from api.schemas import (
    ErrorOut,
    HealthOut,
    MachineDetail,
    MachineSummary,
    OeeOut,
    ReadyOut,
    StatesOut,
)
from api.views import build_intervals, machine_detail, machine_summary, oee_out, readiness
from edge.config import Config, MachineConfig
from edge.interfaces import HistoryReader
from edge.live import LiveView, MachineLive

log = logging.getLogger(__name__)

_INDEX = Path(__file__).parent / "static" / "index.html"
DEFAULT_RANGE = timedelta(hours=1)


@dataclass(frozen=True)
class ApiContext:
    """What the routes read; held on `app.state.ctx`."""

    config: Config
    live: LiveView
    history: HistoryReader
    clock: Callable[[], datetime]


class ApiError(Exception):
    """An error answered as `ErrorOut` JSON (see `api.app`)."""

    def __init__(self, status: int, detail: str, known: list[str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.known = known

    def response(self) -> JSONResponse:
        body = ErrorOut(detail=self.detail, known=self.known)
        return JSONResponse(body.model_dump(exclude_none=True), status_code=self.status)


def get_ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(get_ctx)]


def _machine(ctx: ApiContext, machine_id: str) -> tuple[MachineLive, MachineConfig]:
    """The live and configured machine, or a 404 naming the id and the known ones."""
    m = ctx.live.machines.get(machine_id)
    cfg = next((c for c in ctx.config.machines if c.id == machine_id), None)
    if m is None or cfg is None:
        known = sorted(ctx.live.machines)
        raise ApiError(
            404, f"unknown machine '{machine_id}'; known machines: {', '.join(known)}", known
        )
    return m, cfg


_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "API key missing or wrong"},
    404: {"model": ErrorOut, "description": "Unknown machine"},
}

v1 = APIRouter(prefix="/api/v1", dependencies=[Depends(require_api_key)], responses=_ERRORS)
ops = APIRouter()


@v1.get("/machines", tags=["machines"])
async def list_machines(ctx: Ctx) -> list[MachineSummary]:
    """Every machine with its current state, counts and the latest OEE of each window."""
    return [machine_summary(m, ctx.live.windows) for m in ctx.live.machines.values()]


@v1.get("/machines/{machine_id}", tags=["machines"])
async def get_machine(machine_id: str, ctx: Ctx) -> MachineDetail:
    """One machine in full."""
    m, cfg = _machine(ctx, machine_id)
    return machine_detail(m, cfg, ctx.live.windows, ctx.clock())


@v1.get("/machines/{machine_id}/oee", tags=["oee"], responses={422: {"model": ErrorOut}})
async def get_oee(
    machine_id: str,
    ctx: Ctx,
    window: Annotated[str | None, Query(description="a configured window, e.g. 15m")] = None,
) -> OeeOut:
    """The live figures of one rolling window (default: the first configured).

    Before the engine first computes the window the figures are null and
    `computed` is false: a dashboard shows '–' instead of an error.
    """
    m, _ = _machine(ctx, machine_id)
    windows = ctx.live.windows
    name = window if window is not None else windows[0]
    if name not in windows:
        raise ApiError(
            422, f"window '{name}' is not configured; configured: {', '.join(windows)}", windows
        )
    return oee_out(machine_id, name, m.oee.get(name))


@v1.get(
    "/machines/{machine_id}/states",
    tags=["history"],
    responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
async def get_states(
    machine_id: str,
    ctx: Ctx,
    from_: Annotated[
        AwareDatetime | None,
        Query(alias="from", description="RFC 3339 with offset; default: `to` minus 1 h"),
    ] = None,
    to: Annotated[
        AwareDatetime | None, Query(description="RFC 3339 with offset; default: now")
    ] = None,
) -> StatesOut:
    """State intervals of [from, to], clipped to it; the last one ends at min(to, now)."""
    _machine(ctx, machine_id)
    now = ctx.clock()
    end = to or now
    start = from_ or end - DEFAULT_RANGE
    if start >= end:
        raise ApiError(422, "`from` must be earlier than `to`")
    try:
        records = await ctx.history.state_history(machine_id, start, end)
    except Exception as exc:  # the store is external I/O: report it, keep serving
        log.warning("state history of %s failed: %s", machine_id, exc)
        raise ApiError(503, f"history store unavailable: {exc}") from exc
    intervals = build_intervals(records, start, end, now)
    return StatesOut(machine=machine_id, from_=start, to=end, intervals=intervals)


@ops.get("/health", tags=["ops"])
async def health() -> HealthOut:
    """200 while the process is up."""
    return HealthOut()


@ops.get("/ready", tags=["ops"], response_model=ReadyOut, responses={503: {"model": ReadyOut}})
async def ready(ctx: Ctx) -> JSONResponse:
    """200 when started, every machine has a state and every sink is connected; else 503."""
    body = readiness(ctx.live)
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


@ops.get(
    "/metrics",
    tags=["ops"],
    dependencies=[Depends(require_api_key)],
    response_class=PlainTextResponse,
    responses={401: {"model": ErrorOut}},
)
async def prometheus(ctx: Ctx) -> PlainTextResponse:
    """Prometheus text exposition 0.0.4."""
    return PlainTextResponse(metrics.render(ctx.live), media_type=metrics.CONTENT_TYPE)


@cache
def _index_html() -> str:
    # Read once: the page is static and ships inside the package.
    return _INDEX.read_text(encoding="utf-8")


@ops.get("/", include_in_schema=False)
async def dashboard() -> HTMLResponse:
    """The live dashboard page (plain HTML + JS, polls /api/v1/machines)."""
    return HTMLResponse(_index_html())
