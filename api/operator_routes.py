"""The operator's changes to a machine beyond a stop's reason: scrap booked by hand
against the reject-reason tree, and a stop turned into planned time (or back). Each goes
to the running gateway as an event (`ScrapBooked` with its `CountDelta`, `StopPlanned`)
that the OEE engine, the live view, the store, InfluxDB and MQTT all take, naming who
made it (`api.auth.operator_name`). They need an operate or admin key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends

from api.auth import operator_name
from api.context import (
    OPERATE,
    ApiContext,
    ApiError,
    Ctx,
    find_machine,
    from_store,
    operate_docs,
    require_control,
    v1_router,
)
from api.operator_schemas import PlannedIn, PlannedOut, ScrapIn, ScrapOut, ScrapReasonOut
from api.schemas import rfc3339
from api.stops import find_stop, parse_at
from core.types import ScrapBooked, StopPlanned
from edge.config import STOP_STATES, MachineConfig, ScrapReasonConfig
from edge.pipeline.live import MachineLive

router = v1_router()
By = Annotated[str, Depends(operator_name)]


@router.get("/machines/{machine_id}/scrap-reasons", tags=["operator"])
async def get_scrap_reasons(machine_id: str, ctx: Ctx) -> list[ScrapReasonOut]:
    """The machine's reject-reason tree (the plant's with the machine's own), by code."""
    find_machine(ctx, machine_id)
    tree = ctx.config.scrap_reasons_for(machine_id)
    return [
        ScrapReasonOut(reason_code=code, text=r.text, category=r.category)
        for code, r in sorted(tree.items())
    ]


@router.post(
    "/machines/{machine_id}/scrap",
    tags=["operator"],
    dependencies=OPERATE,
    responses=operate_docs(
        e413="The body is larger than `api.limits.max_body_bytes` (it is not read)",
        e422="A bad body, a code not in the reject-reason tree, a product not configured, "
        "or more parts than the shift's good ones",
        e503="History store unavailable, or no running gateway (read-only API)",
    ),
)
async def post_scrap(machine_id: str, body: ScrapIn, ctx: Ctx, by: By) -> ScrapOut:
    """Book `quantity` parts found bad: they move from good to reject now (a count delta
    of total 0, good -quantity, reject +quantity on `…/count`), so quality, the OEE
    figures, the store and InfluxDB agree; `…/scrap` records the reason, who and the note.
    At most the good parts of the current shift (without shifts: of the plant's day)."""
    m, cfg = find_machine(ctx, machine_id)
    entry = _scrap_reason(ctx, machine_id, body.reason_code)
    _check_product(cfg, body.product)
    await _check_good(ctx, m, body.quantity)
    control = require_control(ctx)
    booking = ScrapBooked(
        machine=machine_id, ts=ctx.clock(), quantity=body.quantity,
        reason_code=body.reason_code, reason=entry.text, by=by, category=entry.category,
        product=body.product, note=body.note,
    )  # fmt: skip
    done = await control.book_scrap(booking)
    return ScrapOut(
        machine=machine_id, ts=done.ts, quantity=done.quantity, reason_code=done.reason_code,
        reason=done.reason, category=done.category, product=done.product, note=done.note,
        by=done.by, count_seq=done.count_seq, seq=done.seq,
    )  # fmt: skip


def _scrap_reason(ctx: ApiContext, machine_id: str, code: int) -> ScrapReasonConfig:
    tree = ctx.config.scrap_reasons_for(machine_id)
    if code not in tree:
        known = [str(c) for c in sorted(tree)]
        raise ApiError(
            422,
            f"reason_code {code} is not in the reject-reason tree of {machine_id} "
            f"(scrap_reasons); known codes: {', '.join(known) or 'none'}",
            known,
        )
    return tree[code]


def _check_product(cfg: MachineConfig, product: str | None) -> None:
    if product is not None and product not in cfg.products:
        known = list(cfg.products)
        raise ApiError(
            422,
            f"product '{product}' is not configured for {cfg.id}; "
            f"configured: {', '.join(known) or 'none'}",
            known,
        )


async def _check_good(ctx: ApiContext, m: MachineLive, quantity: int) -> None:
    """Scrap comes out of good parts: at most the good ones of the current shift (or,
    without shifts, of the plant's day), as the store holds them."""
    machine, now = m.ref.machine, ctx.clock()
    calendar = ctx.config.calendar_for(machine)
    shift = calendar.shift_at(now)
    start, what = (shift.start, f"shift {shift.id}") if shift else (_day_start(ctx, m), "day")
    counts = await from_store(
        f"count history of {machine}", ctx.history.count_history(machine, start, now)
    )
    good = sum(c.good for c in counts)
    if quantity > good:
        raise ApiError(
            422,
            f"cannot book {quantity} parts of {machine} as scrap: the {what} has {good} "
            f"good parts (since {rfc3339(start)})",
        )


def _day_start(ctx: ApiContext, m: MachineLive) -> datetime:
    return ctx.config.calendar_for(m.ref.machine).day_window(ctx.clock())[0]


@router.put(
    "/machines/{machine_id}/stops/{at}/planned",
    tags=["operator"],
    dependencies=OPERATE,
    responses=operate_docs(
        e404="Unknown machine, or `at` is in no stop (the detail and `known` name the "
        "nearest stops before and after)",
        e413="The body is larger than `api.limits.max_body_bytes` (it is not read)",
        e422="Bad `at` or body, or `at` is the start of no stop (running, offline)",
        e503="History store unavailable, or no running gateway (read-only API)",
    ),
)
async def put_planned(machine_id: str, at: str, body: PlannedIn, ctx: Ctx, by: By) -> PlannedOut:
    """Count the stop in force at `at` (its start or any time inside it) as planned stop
    time of `kind` (a meeting, no order): out of planned production time, so availability
    no longer counts it, in every window that holds it and in history, across restarts."""
    return await _plan(ctx, machine_id, at, by, body)


@router.delete(
    "/machines/{machine_id}/stops/{at}/planned",
    tags=["operator"],
    dependencies=OPERATE,
    responses=operate_docs(
        e404="Unknown machine, or `at` is in no stop",
        e422="Bad `at`, or `at` is the start of no stop",
        e503="History store unavailable, or no running gateway (read-only API)",
    ),
)
async def delete_planned(machine_id: str, at: str, ctx: Ctx, by: By) -> PlannedOut:
    """Count the stop in force at `at` as what it was again (undo `PUT …/planned`)."""
    return await _plan(ctx, machine_id, at, by, None)


async def _plan(
    ctx: ApiContext, machine_id: str, at: str, by: str, body: PlannedIn | None
) -> PlannedOut:
    m, _ = find_machine(ctx, machine_id)
    record = (await find_stop(ctx, m, parse_at(at))).record
    if record.state not in STOP_STATES:
        allowed = [str(s) for s in STOP_STATES]
        raise ApiError(
            422,
            f"only a stop ({', '.join(allowed)}) can count as planned time; "
            f"{machine_id} was {record.state} from {rfc3339(record.ts)}",
            allowed,
        )
    control = require_control(ctx)
    event = StopPlanned(
        machine=machine_id, stop_ts=record.ts, state=record.state, ts=ctx.clock(), by=by,
        kind=body.kind if body else None, reason=body.reason if body else None,
        previous_kind=record.planned_kind, previous_reason=record.planned_reason,
    )  # fmt: skip
    await control.emit([event])
    return PlannedOut(
        machine=machine_id, start=record.ts, state=record.state, kind=body.kind if body else None,
        reason=event.reason, previous_kind=event.previous_kind,
        previous_reason=event.previous_reason, by=by,
    )  # fmt: skip
