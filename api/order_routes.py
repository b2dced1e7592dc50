"""The orders routes (issue 19): the book's orders with their live progress, one order
with its changeovers, an order put (idempotent by id) or a batch imported (JSON or CSV,
all or nothing), an order not started deleted, and an operator's start, pause, resume or
end of an order. The changes need an operate or admin key; each goes to the running
gateway's order engine, leaves an audit entry naming who (`order`, `order_command`),
and the machines concerned publish their progress at once (the book's checkpoint goes
with it). docs/API.md "Orders"."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from api.auth import operator_name
from api.context import (
    OPERATE,
    ApiContext,
    ApiError,
    Ctx,
    error_docs,
    find_machine,
    operate_docs,
    require_control,
    v1_router,
)  # fmt: skip
from api.history import limits
from api.offload import run_job
from api.order_data import order_changeovers_job
from api.order_import import check_rows, csv_rows, json_rows
from api.order_schemas import (
    CommandIn,
    ImportErrorOut,
    ImportOut,
    OrderDetailOut,
    OrderRowOut,
    OrdersOut,
    PutOut,
)  # fmt: skip
from api.order_views import find_order, order_engine, order_row, unknown_order
from api.schemas import ApiTime
from core.orders import OrderCommand
from core.types import Event
from edge.config.orders import OrderIn
from edge.engines.order_acts import OrderConflict
from edge.engines.orders import OrderEngine
from oee.orders import Status

__all__ = ["router"]

router = v1_router(machine_routes=False)
By = Annotated[str, Depends(operator_name)]
_503 = "No running gateway (read-only API)"
# How far before an order started the changeover into it may have begun.
_BEFORE = timedelta(days=7)


async def _publish(ctx: ApiContext, engine: OrderEngine, events: list[Event]) -> None:
    """`events`, then the progress of every machine with an order (the checkpoint of the
    book goes with it), as the intake does."""
    control = require_control(ctx)
    await control.emit(events)
    for batch in engine.publications(ctx.clock()):
        await control.emit(batch)


@router.get("/orders", tags=["orders"], responses=error_docs(e404="Unknown machine", e503=_503))
async def list_orders(
    ctx: Ctx,
    machine: Annotated[str | None, Query(description="only this machine's")] = None,
    status: Annotated[Status | None, Query(description="only those of this status")] = None,
    due_from: Annotated[ApiTime | None, Query(description="due at or after (RFC 3339)")] = None,
    due_to: Annotated[ApiTime | None, Query(description="due before (RFC 3339)")] = None,
) -> OrdersOut:
    """The orders of the running gateway's book (the open ones, and the done ones for 7
    days after they ended), each with its live progress and why it runs (`source`), by
    due, then id."""
    if machine is not None:
        find_machine(ctx, machine)
    engine, now = order_engine(ctx), ctx.clock()
    rows = []
    for order in sorted(engine.book.orders.values(), key=lambda o: (o.due, o.id)):
        if machine not in (None, order.machine):
            continue
        if (due_from and order.due < due_from) or (due_to and order.due >= due_to):
            continue
        row = order_row(engine, order.id, now)
        if status in (None, row["status"]):
            rows.append(row)
    return OrdersOut.model_validate({"orders": rows})


@router.get(
    "/orders/{order_id}",
    tags=["orders"],
    response_model=OrderDetailOut,
    responses=error_docs(e404="Unknown order (the detail names the id)", e503=_503),
)
async def get_order(order_id: str, ctx: Ctx) -> Response:
    """The order, its run (started, ended, pauses), progress, seconds by state and OEE
    while it ran, and the changeovers into and out of it (from the store; null when the
    store keeps none for the API)."""
    engine, now = order_engine(ctx), ctx.clock()
    find_order(engine, order_id)
    row = order_row(engine, order_id, now)
    run = engine.book.runs[order_id]
    found: list[dict[str, Any]] | None = []
    if run.started is not None:
        machine, most = row["order"]["machine"], limits(ctx).max_rows
        q = (machine, run.started - _BEFORE, now + timedelta(milliseconds=1), most)
        found = await run_job(ctx, order_changeovers_job, *q, order_id)
    body = OrderDetailOut.model_validate({**row, "changeovers": found})
    return Response(body.model_dump_json(by_alias=True), media_type="application/json")


def _conflict(exc: OrderConflict) -> ApiError:
    return ApiError(409, exc.message, [exc.field])


@router.post(
    "/orders",
    tags=["orders"],
    dependencies=OPERATE,
    status_code=201,
    response_model=PutOut,
    responses={
        200: {"model": PutOut, "description": "Updated, or unchanged (the same order again)"},
        **operate_docs(
            e409="The order started and its machine or product would change, or it is of "
            "the config (the detail names it; `known` the field)",
            e413="The body is larger than `api.limits.max_body_bytes` (it is not read)",
            e422="A bad order, or a machine not configured",
            e503=_503,
        ),
    },
)
async def post_order(body: OrderIn, ctx: Ctx, by: By) -> JSONResponse:
    """One order (the intake schema): 201 `created`; 200 `unchanged` when the book holds
    it exactly so (idempotent by id); 200 `updated` when it changed. Once an order
    started, its quantity, due, planned_start, ideal_cycle_s and customer may change,
    its machine and product not (409)."""
    if body.machine not in {m.id for m in ctx.config.machines}:
        known = sorted(m.id for m in ctx.config.machines)
        raise ApiError(422, f"body.machine: no machine '{body.machine}' (known: "
                       f"{', '.join(known)})", known)  # fmt: skip
    engine, order = order_engine(ctx), body.to_order()
    clash = engine.conflict(order)
    if clash is not None:
        raise _conflict(clash)
    outcome = engine.outcome(order)
    await _publish(ctx, engine, list(engine.put_orders([order], ctx.clock(), by)))
    doc = {"outcome": outcome, "order": order_row(engine, order.id, ctx.clock())["order"]}
    content = PutOut.model_validate(doc).model_dump(mode="json")
    return JSONResponse(content, status_code=201 if outcome == "created" else 200)


_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/OrderIn"}}
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "id,product,quantity,due,machine,planned_start,ideal_cycle_s,customer\n"
                "A-1,101,500,2026-12-08T14:00:00+01:00,m1,2026-12-08T06:00:00+01:00,2,ACME\n",
            },
        },
    }
}


@router.post(
    "/orders/import",
    tags=["orders"],
    dependencies=OPERATE,
    response_model=ImportOut,
    openapi_extra=_IMPORT_BODY,
    responses=operate_docs(
        e413="The body is larger than `api.limits.max_body_bytes` (it is not read)",
        e415="Neither `application/json` nor `text/csv`",
        e503=_503,
    )
    | {422: {"model": ImportErrorOut, "description": "Bad rows: each listed, nothing taken"}},
)
async def import_orders(
    request: Request,
    ctx: Ctx,
    by: By,
    dry_run: Annotated[bool, Query(description="check only: take nothing")] = False,
) -> Response:
    """A batch of orders: a JSON list of order objects, or CSV with a header row naming
    the columns (id, product, quantity, due, machine, planned_start, ideal_cycle_s,
    customer; times RFC 3339 with an offset; an empty cell is not given). All or nothing:
    any bad row is a 422 listing every problem as `{row, field, message}` (row: the line
    of the file, the header being line 1; for JSON the list index) and nothing is taken.
    `dry_run=true` checks and says what would change without taking anything."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind not in ("application/json", "text/csv"):
        raise ApiError(415, f"send application/json or text/csv, not '{kind or 'nothing'}'")
    engine, raw = order_engine(ctx), await request.body()
    rows, problems = (csv_rows if kind == "text/csv" else json_rows)(raw)
    orders, more = check_rows(rows, engine)
    if problems or more:
        errors = [*problems, *more]
        body = ImportErrorOut(detail=f"{len(errors)} problem(s); nothing was taken",
                              errors=errors)  # type: ignore[arg-type]  # fmt: skip
        return JSONResponse(body.model_dump(mode="json"), status_code=422)
    outcome: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
    for order in orders:
        outcome[engine.outcome(order)].append(order.id)
    if not dry_run:
        await _publish(ctx, engine, list(engine.put_orders(orders, ctx.clock(), by)))
    return JSONResponse(ImportOut(dry_run=dry_run, **outcome).model_dump(mode="json"))


@router.delete(
    "/orders/{order_id}",
    tags=["orders"],
    dependencies=OPERATE,
    response_model=OrderRowOut,
    responses=operate_docs(
        e404="Unknown order", e409="The order started, or is of the config", e503=_503
    ),
)
async def delete_order(order_id: str, ctx: Ctx, by: By) -> OrderRowOut:
    """Delete an order not started (409 otherwise: end it instead); the answer is the
    order as it was."""
    engine, now = order_engine(ctx), ctx.clock()
    find_order(engine, order_id)
    before = OrderRowOut.model_validate(order_row(engine, order_id, now))
    try:
        edit = engine.delete(order_id, now, by)
    except OrderConflict as exc:
        raise _conflict(exc) from None
    await _publish(ctx, engine, [edit])
    return before


@router.post(
    "/machines/{machine_id}/order",
    tags=["orders"],
    dependencies=OPERATE,
    responses=operate_docs(
        e404="Unknown machine or order",
        e409="The act does not apply to the order as it stands (the detail says why)",
        e503=_503,
    ),
)
async def post_command(machine_id: str, body: CommandIn, ctx: Ctx, by: By) -> OrderRowOut:
    """Start, pause, resume or end `order` on the machine (an `OrderCommand` naming who):
    starting (or resuming) one pauses the order that ran. `start` applies to an order not
    ended or complete that does not run; `pause` to the one that runs; `resume` to a
    paused one; `end` to a started one not ended. Not on a machine with an order tag (the
    PLC decides). The answer is the order's progress after the act."""
    find_machine(ctx, machine_id)
    engine = order_engine(ctx)
    if body.order not in engine.book.orders:
        raise unknown_order(body.order)
    why = engine.refusal(machine_id, body.order, body.action)
    if why is not None:
        raise ApiError(409, why)
    cmd = OrderCommand(machine_id, ctx.clock(), body.order, body.action, by)
    await _publish(ctx, engine, [cmd])
    return OrderRowOut.model_validate(order_row(engine, body.order, ctx.clock()))
