"""`create_app`: the FastAPI application over the live view and the history store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.routes import ApiContext, ApiError, ops, v1
from edge.config import Config
from edge.interfaces import HistoryReader
from edge.live import LiveView
from edge.types import utc_now


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return exc.response()


def create_app(
    config: Config,
    live: LiveView,
    history: HistoryReader,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """Build the API app. It only reads `live` (the pipeline keeps it current) and `history`.

    `clock` is the "now" used to end open state intervals; tests pass a fixed one.
    """
    app = FastAPI(
        title="oee-edge",
        summary=f"Gateway {config.gateway.id}: machine states, counts and OEE",
        version="1",
    )
    app.state.ctx = ApiContext(config=config, live=live, history=history, clock=clock)
    app.add_exception_handler(ApiError, _api_error)
    app.include_router(v1)
    app.include_router(ops)
    return app
