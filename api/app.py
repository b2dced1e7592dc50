"""`create_app`: the FastAPI application over the live view, the history store and (when
it runs in the gateway) the gateway's control."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from api import (
    admin_routes,
    alarm_routes,
    calendar_routes,
    control_routes,
    count_routes,
    docs_routes,
    events,
    notes_routes,
    oee_routes,
    operator_routes,
    order_routes,
    output_routes,
    plan_routes,
    quality_routes,
    report_routes,
    spc_acts,
    spc_routes,
)
from api.context import ApiContext, ApiError, HistoryGate, JobRunner
from api.errors import internal_error, invalid_request
from api.guard import RequestGuard, SecurityHeaders
from api.report_keeper import ReportKeeper
from api.routes import ops, v1
from api.shift_routes import router as shift_router
from api.tag_routes import router as tag_router
from core.interfaces import HistoryReader
from core.types import utc_now
from edge.config import Config
from edge.control import ConfigReloader, GatewayControl
from edge.pipeline.live import LiveView


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return exc.response()


def create_app(
    config: Config,
    live: LiveView,
    history: HistoryReader,
    clock: Callable[[], datetime] = utc_now,
    *,
    control: GatewayControl | None = None,
    reloader: ConfigReloader | None = None,
    pool: JobRunner | None = None,
) -> FastAPI:
    """Build the API app. It reads `live` (the pipeline keeps it current) and `history`;
    reasons and products go to `control`, the running gateway (None: those routes 503).

    `clock` is the "now" used to end open state intervals; tests pass a fixed one.
    `reloader` re-reads the config file (`POST /api/v1/config/reload`; None: 503).
    `pool` runs the history requests' jobs (`api.offload.HistoryPool`, worker processes
    reading the store of the config themselves); None: here, in worker threads.
    """
    app = FastAPI(
        title="oee-edge",
        summary=f"Gateway {config.gateway.id}: machine states, counts and OEE",
        version="1",
        docs_url=None,  # served by api.docs_routes from the gateway itself, not a CDN
        redoc_url=None,
    )
    gate = HistoryGate(config.api.limits.history_at_once, pool)
    app.state.ctx = ApiContext(config, live, history, clock, control, reloader, gate)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, internal_error)
    routers = (
        v1, oee_routes.router, tag_router, control_routes.router, count_routes.router,
        operator_routes.router, notes_routes.router, shift_router, report_routes.router,
        alarm_routes.router, calendar_routes.router, output_routes.router, quality_routes.router,
        spc_routes.router, spc_acts.router, order_routes.router, plan_routes.router,
    )  # fmt: skip
    for router in (*routers, events.router, ops):
        app.include_router(router)
    app.include_router(admin_routes.router)
    app.include_router(docs_routes.router)
    if control is not None:  # a running gateway: keep each shift's report at its end
        app.state.reports = ReportKeeper(app)
        app.state.reports.watch(live)
    _add_middleware(app, config)
    return app


def _add_middleware(app: FastAPI, config: Config) -> None:
    """Outermost last: the security headers on every answer, CORS (so that a refusal
    still carries its CORS headers), then the guard in front of the routes."""
    app.add_middleware(RequestGuard, api=config.api)
    if config.api.cors_origins:  # no CORS headers at all unless origins are listed
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.api.cors_origins,
            allow_credentials=config.api.cors_allow_credentials,
            allow_methods=["GET", "PUT", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Last-Event-ID"],
        )
    app.add_middleware(SecurityHeaders)
