"""A shift's hand-over notes and the audit of the operator's changes. Notes belong to a
shift instance (`{date}/{name}`) of a line's calendar (the plant's by default); the PUT
goes to the running gateway as a `ShiftNote` (store, InfluxDB, retained
`…/{line}/_line/notes`, SSE `notes`). Both read what the store keeps of the operator's
input (`core.interfaces.OperatorHistory`: the SQLite store)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Query

from api.auth import operator_name
from api.calendar_views import shift_out
from api.context import (
    OPERATE,
    ApiContext,
    ApiError,
    Ctx,
    error_docs,
    find_line,
    from_store,
    operate_docs,
    require_control,
    v1_router,
)
from api.history import limits
from api.operator_schemas import AuditOut, NoteIn, NoteOut
from api.schemas import ApiTime
from core.interfaces import OperatorHistory
from core.types import ShiftNote
from edge.config import DEFAULT_CALENDAR
from oee.calendar import Calendar, ShiftInstance

router = v1_router(machine_routes=False)
LineQuery = Annotated[
    str | None, Query(description="a line of the plant (default: the plant's `line`)")
]
_SHIFT_DOCS = error_docs(
    e404="Unknown line, or no such shift in the line's calendar",
    e422="A malformed date",
    e503="History store unavailable, or the store keeps no notes (InfluxDB only)",
)


@router.get("/shifts/{day}/{name}/notes", tags=["shifts"], responses=_SHIFT_DOCS)
async def get_notes(day: str, name: str, ctx: Ctx, line: LineQuery = None) -> NoteOut:
    """The hand-over text of the shift `{day}/{name}` (e.g. `2026-12-06/late`) of a line
    ("" when none was written)."""
    line_id, area, calendar, shift = shift_of(ctx, line, day, name)
    note = await from_store("shift notes", _store(ctx).note(area, line_id, shift.id))
    return _note_out(line_id, calendar, shift, note)


@router.put(
    "/shifts/{day}/{name}/notes",
    tags=["shifts"],
    dependencies=OPERATE,
    responses={
        **_SHIFT_DOCS,
        **operate_docs(e413="The body is larger than `api.limits.max_body_bytes`"),
    },
)
async def put_notes(
    day: str,
    name: str,
    body: NoteIn,
    ctx: Ctx,
    by: Annotated[str, Depends(operator_name)],
    line: LineQuery = None,
) -> NoteOut:
    """Write the hand-over text of the shift `{day}/{name}` of a line (it replaces the
    one before, which the audit keeps)."""
    line_id, area, calendar, shift = shift_of(ctx, line, day, name)
    before = await from_store("shift notes", _store(ctx).note(area, line_id, shift.id))
    control = require_control(ctx)
    previous = before.text if before else None
    note = ShiftNote(line_id, area, shift.id, body.text, ctx.clock(), by, previous)
    await control.emit([note])
    return _note_out(line_id, calendar, shift, note)


@router.get("/audit", tags=["shifts"], responses=error_docs(e422="A bad range or machine"))
async def get_audit(
    ctx: Ctx,
    from_: Annotated[ApiTime | None, Query(alias="from", description="default: 24 h ago")] = None,
    to: Annotated[ApiTime | None, Query(description="default: now (inclusive)")] = None,
    machine: Annotated[str | None, Query(description="only this machine's changes")] = None,
) -> list[AuditOut]:
    """Every operator change (a stop's reason, scrap, planned time, shift notes, the
    product, an order put or deleted, an order's start, pause, resume or end) of
    [from, to), oldest first (at most `api.limits.max_rows`): who, when, old and new."""
    end = to or ctx.clock() + timedelta(milliseconds=1)  # default: up to now, inclusive
    start = from_ or end - timedelta(days=1)
    if start >= end:
        raise ApiError(422, "`from` must be before `to`")
    if machine is not None and machine not in ctx.live.machines:
        known = sorted(ctx.live.machines)
        raise ApiError(422, f"unknown machine '{machine}'; known: {', '.join(known)}", known)
    rows = await from_store("audit", _store(ctx).audit(start, end, machine, limits(ctx).max_rows))
    return [AuditOut.model_validate(r, from_attributes=True) for r in rows]


def _store(ctx: ApiContext) -> OperatorHistory:
    if not isinstance(ctx.history, OperatorHistory):
        raise ApiError(
            503, "the operator's input is kept in the SQLite store; this history has none"
        )
    return ctx.history


def shift_of(
    ctx: ApiContext, line: str | None, day: str, name: str
) -> tuple[str, str, Calendar, ShiftInstance]:
    """The line, its area, its calendar and the shift `{day}/{name}` of it, or a 404."""
    line_id = line or ctx.config.line
    machines = find_line(ctx, line_id)
    area = ctx.live.machines[machines[0]].ref.area
    cfg = ctx.config.lines.get(line_id)
    plan = (cfg.calendar if cfg is not None else None) or ctx.config.calendar
    calendar = plan.to_calendar() if plan is not None else DEFAULT_CALENDAR
    try:
        shift = calendar.shift_by_id(f"{day}/{name}")
    except ValueError as exc:
        raise ApiError(422, str(exc)) from exc
    if shift is None:
        known = sorted({s.name for s in calendar.shifts})
        raise ApiError(
            404,
            f"no shift '{name}' starts on {day} in the calendar of line {line_id}; "
            f"shifts: {', '.join(known) or 'none (24/7)'}",
            known,
        )
    return line_id, area, calendar, shift


def _note_out(
    line: str, calendar: Calendar, shift: ShiftInstance, note: ShiftNote | None
) -> NoteOut:
    return NoteOut(
        line=line,
        shift=shift_out(shift),
        timezone=calendar.tz,
        text=note.text if note else "",
        by=note.by if note else None,
        ts=note.ts if note else None,
        previous_text=note.previous_text if note else None,
    )  # fmt: skip
