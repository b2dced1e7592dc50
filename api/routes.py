"""The machine and state routes of `/api/v1` (key-protected) and the operational ones
outside it. The OEE routes are in `api.oee_routes`, the operator's in `api.control_routes`."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from api import metrics
from api.auth import require_api_key
from api.context import ApiError, Ctx, error_docs, find_machine, from_store, v1_router
from api.history import history_range, json_bytes, page_size
from api.offload import Cpu, run_job
from api.plant_time import calendar_of, query_range
from api.schemas import (
    HealthOut,
    MachineDetail,
    MachineSummary,
    ReadyOut,
    StatesOut,
)
from api.views import machine_detail, machine_summary, readiness, states_page
from core.interfaces import HistoryReader

_INDEX = Path(__file__).parent / "static" / "index.html"

v1 = v1_router()
ops = APIRouter()


@v1.get("/machines", tags=["machines"])
async def list_machines(ctx: Ctx) -> list[MachineSummary]:
    """Every machine with its current state, counts and the latest OEE of each window."""
    return [machine_summary(m, ctx.live.windows) for m in ctx.live.machines.values()]


@v1.get("/machines/{machine_id}", tags=["machines"])
async def get_machine(machine_id: str, ctx: Ctx) -> MachineDetail:
    """One machine in full."""
    m, cfg = find_machine(ctx, machine_id)
    return machine_detail(m, cfg, ctx.live.windows, ctx.clock())


@v1.get(
    "/machines/{machine_id}/states",
    tags=["history"],
    response_model=StatesOut,
    responses=error_docs(
        e422="Bad range or `limit` (the detail says which)", e503="History store unavailable"
    ),
)
async def get_states(
    machine_id: str,
    ctx: Ctx,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description="RFC 3339 with offset, or a plant date (2026-12-06: the start of "
            "that plant day); default: `to` minus 1 h",
            examples=["2026-12-06T06:00:00Z", "2026-12-06"],
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            description="RFC 3339 with offset, or a plant date (the end of that plant "
            "day); default: now; at most `api.limits.max_range_days` (92) after `from`",
            examples=["2026-12-06T14:00:00Z", "2026-12-06"],
        ),
    ] = None,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            description="intervals per page; at most (and by default) `api.limits.max_rows` "
            "(10,000); `next_from` is where the next page begins",
        ),
    ] = None,
) -> Response:
    """State intervals of [from, to], clipped to it, oldest first; the last one ends at
    min(to, now). At most `limit` of them: when there are more, `next_from` is the start
    of the next one (ask again with it as `from`), else null."""
    find_machine(ctx, machine_id)
    now = ctx.clock()
    start, end = history_range(ctx, *query_range(from_, to, calendar_of(ctx, machine_id)), now)
    page = page_size(ctx, limit)
    body = await run_job(ctx, states_job, machine_id, start, end, now, page)
    return Response(body, media_type="application/json")


async def states_job(
    reader: HistoryReader,
    cpu: Cpu,
    machine: str,
    start: datetime,
    end: datetime,
    now: datetime,
    page: int,
) -> bytes:
    """The states route's answer (a history job, `api.offload`): one row more than the
    page is read, which says whether there is a next page, and where."""
    read = reader.state_history(machine, start, end, limit=page + 1)
    records = await from_store(f"state history of {machine}", read)
    return await cpu(lambda: json_bytes(states_page(machine, records, start, end, now, page)))


@ops.get("/health", tags=["ops"])
async def health() -> HealthOut:
    """200 while the process is up."""
    return HealthOut()


@ops.get("/ready", tags=["ops"], response_model=ReadyOut, responses={503: {"model": ReadyOut}})
async def ready(ctx: Ctx) -> JSONResponse:
    """200 when started, every machine has a state and every sink is connected and
    delivering (`sink_problems` empty: no stuck broker); else 503, naming in `not_ready`
    what is missing."""
    body = readiness(ctx.live)
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


@ops.get(
    "/metrics",
    tags=["ops"],
    dependencies=[Depends(require_api_key)],
    response_class=PlainTextResponse,
    # (the 401 is JSON, whatever the route's own answers are)
    responses={
        401: {
            "description": "API key missing or wrong",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
    },
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
    """The live page (plain HTML, CSS and JS in api/static, no build step): states, OEE
    gauges, the shift's timeline and the downtime Pareto, updated by /api/v1/events."""
    return HTMLResponse(_index_html(), headers={"Cache-Control": "no-cache"})


@cache
def _report_html() -> str:
    return (_INDEX.parent / "report.html").read_text(encoding="utf-8")


@ops.get("/report.html", include_in_schema=False)
async def report_page() -> HTMLResponse:
    """The printable shift report (`?shift=2026-12-06/late&line=`): no data of its own; it
    reads `GET /api/v1/shifts/{date}/{name}/report` with the live page's key."""
    return HTMLResponse(_report_html(), headers={"Cache-Control": "no-cache"})


_ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@cache
def _assets() -> dict[str, tuple[bytes, str]]:
    # The files of api/static by name, read once: only these are served (no paths).
    return {
        p.name: (p.read_bytes(), _ASSET_TYPES[p.suffix])
        for p in _INDEX.parent.iterdir()
        if p.suffix in _ASSET_TYPES
    }


@ops.get("/static/{name}", include_in_schema=False)
async def page_asset(name: str) -> Response:
    """A script, style sheet or icon of the live page (open, like the page: no data)."""
    asset = _assets().get(name)
    if asset is None:
        raise ApiError(404, f"no page asset '{name}'")
    return Response(asset[0], media_type=asset[1], headers={"Cache-Control": "no-cache"})
