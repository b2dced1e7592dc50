"""The operator's routes: the reason tree, a reason given to a stop, the product a
machine makes. Changes go to the running gateway (`GatewayControl`), which hands them to
the OEE engine, the live view, the store and MQTT; never to a PLC. The changes need an
operate or admin key (when keys are configured); the reason tree a read key."""

from __future__ import annotations

from datetime import datetime, timedelta

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
from api.oee_schemas import AssignmentOut, ProductIn, ProductOut, ReasonIn, ReasonOut
from api.schemas import TIME_RANGE, in_time_range, rfc3339
from core.types import ReasonAssigned, StateRecord
from edge.config import STOP_STATES, ReasonConfig
from edge.engines.oee import ideal_cycle_s
from edge.pipeline.live import MachineLive

router = v1_router()

_MS = timedelta(milliseconds=1)
_START_HINT = "e.g. 2026-11-03T07:40:30.500Z"


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
    "/machines/{machine_id}/stops/{start}/reason",
    tags=["reasons"],
    dependencies=OPERATE,
    responses=operate_docs(
        e404="Unknown machine, or no stop begins at `start`",
        e413="The body is larger than `api.limits.max_body_bytes` (it is not read)",
        e422="Bad `start` or body, a code not in the reason tree, or a reason not for that state",
        e503="History store unavailable, or no running gateway (read-only API)",
    ),
)
async def put_reason(machine_id: str, start: str, body: ReasonIn, ctx: Ctx) -> AssignmentOut:
    """Give the stop that began at `start` (RFC 3339, to the millisecond, as `since` and
    the intervals' `start` show it) a reason of the machine's tree; `code: null` clears it.
    The OEE engine, the live view, the store and MQTT all take the new reason."""
    m, _ = find_machine(ctx, machine_id)
    stop_ts = _parse_start(start)
    entry = _reason(ctx, machine_id, body.code)
    record = _current(m, stop_ts) or await _stop(ctx, machine_id, stop_ts)
    _check_state(machine_id, body.code, entry, record)
    control = require_control(ctx)
    event = ReasonAssigned(
        machine=machine_id,
        stop_ts=record.ts,
        state=record.state,
        reason_code=body.code,
        reason=entry.text if entry else None,
        ts=ctx.clock(),
        source="operator",
        category=entry.category if entry else None,
        previous_code=record.reason_code,
        previous_reason=record.reason,
    )
    await control.emit([event])
    return AssignmentOut(
        machine=machine_id,
        start=record.ts,
        state=record.state,
        code=event.reason_code,
        reason=event.reason,
        category=event.category,
        previous_code=event.previous_code,
        previous_reason=event.previous_reason,
    )


def _parse_start(text: str) -> datetime:
    """`start` of the path: an RFC 3339 time with its offset within the times the API
    accepts, else a 422."""
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        ts = None
    if ts is None or ts.utcoffset() is None:
        raise ApiError(422, f"`start` '{text}' is not an RFC 3339 time with offset, {_START_HINT}")
    if not in_time_range(ts):
        raise ApiError(422, f"`start` '{text}': {TIME_RANGE}")
    return ts


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


def _current(m: MachineLive, ts: datetime) -> StateRecord | None:
    """The machine's current state if it began at `ts`: known before a store that writes
    in batches (InfluxDB) can return it."""
    cur = m.state
    if cur is None or cur.ts != ts:
        return None
    return StateRecord(m.ref.machine, cur.state, cur.ts, cur.reason, cur.reason_code)


async def _stop(ctx: ApiContext, machine_id: str, ts: datetime) -> StateRecord:
    """The stored state change of `machine_id` at exactly `ts`, else a 404."""
    records = await from_store(
        f"state history of {machine_id}", ctx.history.state_history(machine_id, ts, ts + _MS)
    )
    # The first record may be the one in force before `ts`: only one at `ts` is the stop.
    record = next((r for r in records if r.ts == ts), None)
    if record is None:
        raise ApiError(404, f"no stop of {machine_id} begins at {rfc3339(ts)}")
    return record


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
async def put_product(machine_id: str, body: ProductIn, ctx: Ctx) -> ProductOut:
    """The product the machine makes from now on (null: its default); its ideal cycle time
    applies to the counts from now on. Kept across restarts."""
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
        control.set_product(machine_id, body.product)
    except ValueError as exc:
        raise ApiError(409, str(exc)) from exc
    return ProductOut(
        machine=machine_id, product=body.product, ideal_cycle_s=ideal_cycle_s(cfg, body.product)
    )
