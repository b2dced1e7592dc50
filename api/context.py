"""What every route shares: the context on `app.state.ctx`, the error type, look-ups that
answer 404, the key-protected `/api/v1` router factory and the admin routes' guard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api.auth import require_admin, require_api_key, require_operate
from api.schemas import ErrorOut
from core.interfaces import HistoryReader
from edge.config import Config, MachineConfig
from edge.control import ConfigReloader, GatewayControl
from edge.pipeline.live import LiveView, MachineLive

log = logging.getLogger(__name__)
T = TypeVar("T")


class JobRunner(Protocol):
    """Where history jobs run (`api.offload.HistoryPool`: processes of their own)."""

    async def run(self, spec: Any, job: Any, *args: Any) -> Any: ...

    def close(self) -> None: ...


class HistoryGate:
    """How many requests read and compute history at once (`api.limits.history_at_once`)
    and where (`pool`: worker processes; None: here, in worker threads); the others
    wait their turn. Each holds a worker and up to `max_history_rows` rows in memory,
    so this bounds the API's share of the CPU and memory the polls need."""

    def __init__(self, at_once: int, pool: JobRunner | None = None) -> None:
        self.at_once = at_once
        self.pool = pool
        self._slots = asyncio.Semaphore(at_once)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            yield


@dataclass(frozen=True)
class ApiContext:
    """What the routes read; held on `app.state.ctx`. `control` is the running gateway
    (None: a read-only API, e.g. over a copied store, or while the gateway restarts);
    `reloader` re-reads the config file (None: the gateway was not started from one).
    A reload puts a new context here, with the new gateway's config, live view and store."""

    config: Config
    live: LiveView
    history: HistoryReader
    clock: Callable[[], datetime]
    control: GatewayControl | None = None
    reloader: ConfigReloader | None = None
    gate: HistoryGate = field(default_factory=lambda: HistoryGate(2))


class ApiError(Exception):
    """An error answered as `ErrorOut` JSON (see `api.app`)."""

    def __init__(
        self,
        status: int,
        detail: str,
        known: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.known = known
        self.headers = headers

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a history worker process, it is pickled back to the API's.
        return (ApiError, (self.status, self.detail, self.known, self.headers))

    def response(self) -> JSONResponse:
        body = ErrorOut(detail=self.detail, known=self.known)
        return JSONResponse(
            body.model_dump(exclude_none=True), status_code=self.status, headers=self.headers
        )


def get_ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(get_ctx)]


def find_machine(ctx: ApiContext, machine_id: str) -> tuple[MachineLive, MachineConfig]:
    """The live and configured machine, or a 404 naming the id and the known ones."""
    m = ctx.live.machines.get(machine_id)
    cfg = next((c for c in ctx.config.machines if c.id == machine_id), None)
    if m is None or cfg is None:
        known = sorted(ctx.live.machines)
        raise ApiError(
            404, f"unknown machine '{machine_id}'; known machines: {', '.join(known)}", known
        )
    return m, cfg


def find_line(ctx: ApiContext, line: str) -> list[str]:
    """The ids of the machines on `line`, or a 404 naming the known lines."""
    machines = ctx.config.line_machines(line)
    if not machines:
        known = ctx.config.lines_in_use()
        raise ApiError(404, f"unknown line '{line}'; known lines: {', '.join(known)}", known)
    return machines


def require_control(ctx: ApiContext) -> GatewayControl:
    """The running gateway, or a 503: without it a change would reach nothing."""
    if ctx.control is None:
        raise ApiError(503, "read-only API: no running gateway to hand the change to")
    return ctx.control


async def from_store(what: str, read: Awaitable[T]) -> T:
    """Await a history read; a failing store is a 503 naming the cause (the store is
    external I/O: the API reports it and keeps serving)."""
    try:
        return await read
    except Exception as exc:
        log.warning("%s failed: %s", what, exc)
        raise ApiError(503, f"history store unavailable: {exc}") from exc


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "API key missing or wrong"},
    404: {"model": ErrorOut, "description": "Unknown machine"},
    422: {"model": ErrorOut, "description": "Invalid request (the detail names each problem)"},
}


def error_docs(**codes: str) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses=` of a route: `error_docs(e422="Bad range")` -> {422: ...}."""
    return {int(k[1:]): {"model": ErrorOut, "description": v} for k, v in codes.items()}


# `dependencies=` of a route that changes something: an admin key (when keys are set).
ADMIN = [Depends(require_admin)]
# `dependencies=` of an operator's change (`api.auth.OPERATE_PATHS`): an operate key.
OPERATE = [Depends(require_operate)]


def admin_docs(**codes: str) -> dict[int | str, dict[str, object]]:
    """`error_docs` of an admin route: with its 403 for a key of a lower scope."""
    return error_docs(
        e403="The API key has the read or operate scope; this route needs an admin key", **codes
    )


def operate_docs(**codes: str) -> dict[int | str, dict[str, object]]:
    """`error_docs` of an operator's route: with its 403 for a key of the read scope."""
    return error_docs(
        e403="The API key has the read scope; this route needs an operate or admin key", **codes
    )


def v1_router(*, machine_routes: bool = True) -> APIRouter:
    """A router under `/api/v1` that requires an API key (when keys are configured); its
    routes answer 404 for an unknown machine unless `machine_routes` is False."""
    responses: dict[int | str, dict[str, object]] = (
        ERROR_RESPONSES
        if machine_routes
        else {k: v for k, v in ERROR_RESPONSES.items() if k != 404}
    )
    return APIRouter(prefix="/api/v1", dependencies=[Depends(require_api_key)], responses=responses)
