"""The operator's routes: the reason tree, a reason given to a stop, the product a
machine makes. Changes go to the running gateway (`GatewayControl`), which hands them to
the OEE engine, the live view, the store and MQTT; never to a PLC. The changes need an
operate or admin key (when keys are configured); the reason tree a read key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.auth import operator_name
from api.context import (
    OPERATE,
    ApiContext,
    ApiError,
    Ctx,
    find_machine,
    operate_docs,
    require_control,
    v1_router,
)
from api.oee_schemas import AssignmentOut, ProductIn, ProductOut, ReasonIn, ReasonOut
from api.schemas import rfc3339
from api.stops import find_stop, parse_at
from core.types import ProductChanged, ReasonAssigned, StateRecord
from edge.config import STOP_STATES, ReasonConfig
from edge.engines.oee import ideal_cycle_s

router = v1_router()


@router.get("/machines/{machine_id}/reasons", tags=["reasons"])
async def get_reasons(machine_id: str, ctx: Ctx) -> list[ReasonOut]:
    """The machine's reason tree (the plant's with the machine's own entries), by code."""
    find_machine(ctx, machine_id)
    tree = ctx.config.reasons_for(machine_id)
    return [
        ReasonOut(code=code, text=r.text, category=r.category, states=list(r.states))
        for code, r in sorted(tree.items())
    ]


@router.put(
    "/machines/{machine_id}/stops/{at}/reason",
    tags=["reasons"],
    dependencies=OPERATE,
    responses=operate_docs(
        e404="Unknown machine, or `at` is in no stop (the detail and `known` name the "
        "nearest stops before and after)",
        e413="The body is larger than `api.limits.max_body_bytes` (it is not read)",
        e422="Bad `at` or body, a code not in the reason tree, or a reason not for that state",
        e503="History store unavailable, or no running gateway (read-only API)",
    ),
)
async def put_reason(
    machine_id: str, at: str, body: ReasonIn, ctx: Ctx, by: Annotated[str, Depends(operator_name)]
) -> AssignmentOut:
    """Give the stop in force at `at` (RFC 3339 with offset: its start as `since` and the
    intervals' `start` show it, or any time inside it) a reason of the machine's tree;
    `reason_code: null` clears it. The OEE engine, the live view, the store and MQTT all take the
    new reason; `source` is the API key's name ("loopback" without keys)."""
    m, _ = find_machine(ctx, machine_id)
    at_ts = parse_at(at)
    entry = _reason(ctx, machine_id, body.reason_code)
    record = (await find_stop(ctx, m, at_ts)).record
    _check_state(machine_id, body.reason_code, entry, record)
    control = require_control(ctx)
    event = ReasonAssigned(
        machine=machine_id,
        stop_ts=record.ts,
        state=record.state,
        reason_code=body.reason_code,
        reason=entry.text if entry else None,
        ts=ctx.clock(),
        source=by,
        category=entry.category if entry else None,
        previous_reason_code=record.reason_code,
        previous_reason=record.reason,
    )
    await control.emit([event])
    return AssignmentOut(
        machine=machine_id,
        start=record.ts,
        state=record.state,
        reason_code=event.reason_code,
        reason=event.reason,
        category=event.category,
        previous_reason_code=event.previous_reason_code,
        previous_reason=event.previous_reason,
        source=by,
    )


def _reason(ctx: ApiContext, machine_id: str, code: int | None) -> ReasonConfig | None:
    """The tree's entry of `code` (None for no code), else a 422 listing the codes."""
    if code is None:
        return None
    tree = ctx.config.reasons_for(machine_id)
    if code not in tree:
        known = [str(c) for c in sorted(tree)]
        raise ApiError(
            422,
            f"reason {code} is not in the reason tree of {machine_id}; "
            f"known codes: {', '.join(known) or 'none'}",
            known,
        )
    return tree[code]


def _check_state(
    machine_id: str, code: int | None, entry: ReasonConfig | None, record: StateRecord
) -> None:
    """A reason goes to a stop in one of its states; a reason is cleared from a stop only."""
    at = f"{machine_id} was {record.state} from {rfc3339(record.ts)}"
    if entry is None:
        if record.state not in STOP_STATES:
            allowed = [str(s) for s in STOP_STATES]
            raise ApiError(
                422, f"only a stop ({', '.join(allowed)}) has a reason to clear; {at}", allowed
            )
        return
    if record.state not in entry.states:
        allowed = [str(s) for s in entry.states]
        raise ApiError(
            422,
            f"reason {code} ({entry.text}) may be given to a stop in {', '.join(allowed)}; {at}",
            allowed,
        )


@router.put(
    "/machines/{machine_id}/product",
    tags=["machines"],
    dependencies=OPERATE,
    responses=operate_docs(
        e409="The machine reads its product from a PLC tag",
        e413="The body is larger than `api.limits.max_body_bytes` (it is not read)",
        e422="A bad body, or not a configured product of the machine",
        e503="No running gateway (read-only API)",
    ),
)
async def put_product(
    machine_id: str, body: ProductIn, ctx: Ctx, by: Annotated[str, Depends(operator_name)]
) -> ProductOut:
    """The product the machine makes from now on (null: its default); its ideal cycle time
    applies to the counts from now on. Kept across restarts; recorded with who set it
    (`GET /api/v1/audit`) and published on the retained `…/product`."""
    _, cfg = find_machine(ctx, machine_id)
    if body.product is not None and body.product not in cfg.products:
        known = list(cfg.products)
        raise ApiError(
            422,
            f"product '{body.product}' is not configured for {machine_id}; "
            f"configured: {', '.join(known) or 'none'}",
            known,
        )
    control = require_control(ctx)
    try:
        previous = control.set_product(machine_id, body.product)
    except ValueError as exc:
        raise ApiError(409, str(exc)) from exc
    name = cfg.products[body.product].name if body.product is not None else None
    change = ProductChanged(machine_id, ctx.clock(), body.product, previous, by, name)
    await control.emit([change])
    return ProductOut(
        machine=machine_id, product=body.product, ideal_cycle_s=ideal_cycle_s(cfg, body.product)
    )
