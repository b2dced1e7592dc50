"""Finding a machine's stop by any time inside it, for the operator's routes
(`PUT …/stops/{at}/reason`, `…/planned`): the state in force at that time, from the live
view (a store that writes in batches lags behind) or the store; a time in no stop is a
404 naming the nearest stops before and after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from api.context import ApiContext, ApiError, from_store
from api.schemas import TIME_RANGE, in_time_range, rfc3339
from core.types import StateRecord
from edge.config import STOP_STATES
from edge.pipeline.live import MachineLive

__all__ = ["Stop", "find_stop", "parse_at"]

_MS = timedelta(milliseconds=1)
_AT_HINT = "e.g. 2026-11-03T07:40:30Z or 2026-11-03T07:40:30.500+01:00"
# How far the 404's hint looks for the nearest stops: a stop further away names nothing.
_NEAR = timedelta(days=1)
_NEAR_ROWS = 200  # the state changes read after `at` to find the next stop
_BACK_STEPS = 5  # state changes walked back (e.g. offline between two stops)


@dataclass(frozen=True, slots=True)
class Stop:
    """The state change in force at the asked time, and whether that time was its start."""

    record: StateRecord
    exact: bool


def parse_at(text: str) -> datetime:
    """`at` of the path: an RFC 3339 time with its offset within the times the API
    accepts, else a 422."""
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        ts = None
    if ts is None or ts.utcoffset() is None:
        raise ApiError(422, f"`at` '{text}' is not an RFC 3339 time with offset, {_AT_HINT}")
    if not in_time_range(ts):
        raise ApiError(422, f"`at` '{text}': {TIME_RANGE}")
    return ts


async def find_stop(ctx: ApiContext, m: MachineLive, at: datetime) -> Stop:
    """The state change in force at `at`. At its exact start any state is returned (the
    caller says what may be done to it); inside it only a stop, else a 404 with the
    nearest stops."""
    stored = await _stored_at(ctx, m.ref.machine, at)
    record = _live_at(m, at, stored) or stored
    if record is not None and record.ts == at:
        return Stop(record, exact=True)
    if record is not None and record.state in STOP_STATES:
        return Stop(record, exact=False)
    raise await _no_stop(ctx, m, at, record)


def _live_at(m: MachineLive, at: datetime, stored: StateRecord | None = None) -> StateRecord | None:
    """The machine's current state if it is the one in force at `at` (with the planned
    time `stored`, the store's record of it, holds: the live view keeps none)."""
    cur = m.state
    if cur is None or cur.ts > at:
        return None
    kind, why = (stored.planned_kind, stored.planned_reason) if stored else (None, None)
    if stored is not None and stored.ts != cur.ts:
        kind, why = None, None
    return StateRecord(m.ref.machine, cur.state, cur.ts, cur.reason, cur.reason_code, kind, why)


async def _stored_at(ctx: ApiContext, machine: str, at: datetime) -> StateRecord | None:
    """The stored state change in force at `at` (the last one at or before it)."""
    records = await from_store(
        f"state history of {machine}", ctx.history.state_history(machine, at, at + _MS)
    )
    return records[-1] if records and records[-1].ts <= at else None


async def _no_stop(
    ctx: ApiContext, m: MachineLive, at: datetime, record: StateRecord | None
) -> ApiError:
    """The 404 of a time in no stop, naming what the machine did then and the nearest
    stops before and after (within a day), each as "state from start to end"."""
    machine = m.ref.machine
    before = await _stop_before(ctx, machine, record) if record is not None else None
    after = await _stop_after(ctx, m, at)
    known = [_text(s) for s in (before, after) if s is not None]
    then = f"{record.state} from {rfc3339(record.ts)}" if record else "no state known"
    near = (
        f"before: {_text(before) if before else 'none'}; after: {_text(after) if after else 'none'}"
    )
    return ApiError(404, f"no stop of {machine} at {rfc3339(at)} ({then}); {near}", known)


async def _stop_before(
    ctx: ApiContext, machine: str, record: StateRecord
) -> tuple[StateRecord, datetime | None] | None:
    """The last stop that ended at or before `record` began, with its end."""
    end = record.ts
    for _ in range(_BACK_STEPS):
        rows = await from_store(
            f"state history of {machine}", ctx.history.state_history(machine, end, end + _MS)
        )
        prev = rows[0] if rows and rows[0].ts < end else None
        if prev is None or record.ts - prev.ts > _NEAR:
            return None
        if prev.state in STOP_STATES:
            return prev, end
        end = prev.ts
    return None


async def _stop_after(
    ctx: ApiContext, m: MachineLive, at: datetime
) -> tuple[StateRecord, datetime | None] | None:
    """The first stop that began after `at` (within a day), with its end (None: it
    still lasts)."""
    machine = m.ref.machine
    rows = await from_store(
        f"state history of {machine}",
        ctx.history.state_history(machine, at + _MS, at + _NEAR, _NEAR_ROWS),
    )
    rows = [r for r in rows if r.ts > at]
    cur = _live_at(m, at + _NEAR)
    if cur is not None and cur.ts > at and (not rows or rows[-1].ts < cur.ts):
        rows.append(cur)  # the store may not have the current state yet
    for i, r in enumerate(rows):
        if r.state in STOP_STATES:
            return r, rows[i + 1].ts if i + 1 < len(rows) else None
    return None


def _text(stop: tuple[StateRecord, datetime | None]) -> str:
    record, end = stop
    until = rfc3339(end) if end is not None else "now"
    return f"{record.state} from {rfc3339(record.ts)} to {until}"
