"""The shift report (issue 16, part 6; docs/API.md "Shift report"): a line's report of one
shift occurrence `{date}/{name}` as JSON or one flat CSV table, built in a history worker
(`api.report_data`). A finished shift's report is kept when built (`ShiftReportDone`:
the SQLite store's `shift_report` table, or `{gateway.data_dir}/reports/` when the
history store is InfluxDB) and answered from there until operator input newer than it
concerns the shift, or `rebuild=true`; then it is rebuilt, kept and republished."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response

from api.context import ApiContext, ApiError, Ctx, error_docs, from_store, v1_router
from api.history import limits
from api.notes_routes import LineQuery, shift_of
from api.oee_data import MachineInputs
from api.offload import run_job
from api.report_csv import report_csv
from api.report_data import ReportQuery, report_event, report_job
from api.report_schemas import ReportOut
from connectors.common.timefmt import rfc3339
from core.interfaces import OperatorHistory, ReportStore
from core.types import ShiftRef
from edge.engines.lines import LineSpec
from edge.engines.orders import OrderEngine
from edge.engines.output import shift_ref
from oee.calendar import Calendar, ShiftInstance
from oee.orders import WorkOrder

__all__ = ["report_doc", "router"]

router = v1_router(machine_routes=False)
Booked = tuple[WorkOrder, datetime | None]  # an order of the book and when it started
_MS = timedelta(milliseconds=1)
_DOCS = error_docs(
    e404="Unknown line, no such shift in the line's calendar (`known`: its shifts), or "
    "a shift that has not started",
    e422="A malformed date, or more stored rows than `api.limits.max_history_rows`",
    e503="History store unavailable",
)
Rebuild = Annotated[
    bool, Query(description="build a finished shift's report anew (and keep that one)")
]


@router.get("/shifts/{day}/{name}/report", tags=["shifts"], responses=_DOCS)
async def get_report(
    day: str, name: str, ctx: Ctx, line: LineQuery = None, rebuild: Rebuild = False
) -> ReportOut:
    """The report of the shift `{day}/{name}` (e.g. `2026-12-06/late`) of a line: OEE,
    A, P, Q and coverage of the line and each machine, output against target, the
    losses, every stop, scrap by reason, the quality figures (first-pass yield, scrap
    rate, defect Pareto; the line's rolled throughput yield), the alarms active in the
    shift, its notes and the flags. The current shift's covers it so far (`final`
    false)."""
    return ReportOut.model_validate(await report_doc(ctx, day, name, line, rebuild))


@router.get(
    "/shifts/{day}/{name}/report.csv",
    tags=["shifts"],
    responses={
        **_DOCS,
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "the table"},
    },
    response_class=Response,
)
async def get_report_csv(
    day: str, name: str, ctx: Ctx, line: LineQuery = None, rebuild: Rebuild = False
) -> Response:
    """The same report as one flat CSV table: a row per figure, loss, quality figure,
    Pareto row, stop, scrap reason, alarm, note and flag, with its `section` (docs/API.md
    "Shift report")."""
    doc = await report_doc(ctx, day, name, line, rebuild)
    filename = f"report_{doc['line']}_{doc['shift']['id'].replace('/', '_')}.csv"
    return Response(
        report_csv(doc),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def report_doc(
    ctx: ApiContext, day: str, name: str, line: str | None, rebuild: bool = False
) -> dict[str, Any]:
    """The report document: the kept one of a finished shift when still current, else
    built (and, for a finished shift with a running gateway, kept and published)."""
    line_id, _, calendar, shift = shift_of(ctx, line, day, name)
    now = ctx.clock()
    if shift.start >= now:
        raise ApiError(404, f"shift {shift.id} of line {line_id} has not started yet")
    spec = LineSpec.of(ctx.config, line_id)
    ref = shift_ref(shift, calendar)
    final = shift.end <= now
    if final and not rebuild:
        kept = await _kept(ctx, spec, shift)
        if kept is not None and not await _newer_input(ctx, spec, shift, kept[0], now):
            return dict(json.loads(kept[1]))
    doc = await _build(ctx, spec, shift, ref, now, calendar)
    if final and ctx.control is not None:
        await ctx.control.emit([report_event(doc, ref, now)])
        if not isinstance(ctx.history, ReportStore):
            await asyncio.to_thread(_write_file, report_path(ctx, spec.line, shift), doc)
    return doc


async def _build(
    ctx: ApiContext,
    spec: LineSpec,
    shift: ShiftInstance,
    ref: ShiftRef,
    now: datetime,
    calendar: Calendar,
) -> dict[str, Any]:
    cfg = ctx.config.lines.get(spec.line)
    per_shift = cfg.targets.per_shift if cfg is not None and cfg.targets else {}
    q = ReportQuery(
        spec, shift, ref, {m: MachineInputs.of(ctx.config, m) for m in spec.machines},
        per_shift.get(shift.name), now, limits(ctx).max_history_rows, calendar,
        _book(ctx, spec.machines),
    )  # fmt: skip
    doc: dict[str, Any] = await run_job(ctx, report_job, q)
    return doc


def _book(
    ctx: ApiContext, machines: Sequence[str]
) -> tuple[tuple[WorkOrder, datetime | None], ...]:
    """The running gateway's orders of `machines` with their start (the plan counts the
    ones not begun, which the store has never seen); none without a gateway."""
    engine = getattr(ctx.control, "orders", None)  # the Gateway's; a bare control has none
    if not isinstance(engine, OrderEngine):
        return ()
    book = engine.book
    return tuple(
        (o, book.runs[i].started if i in book.runs else None)
        for i, o in book.orders.items()
        if o.machine in machines
    )


def report_path(ctx: ApiContext, line: str, shift: ShiftInstance) -> Path:
    """`{gateway.data_dir}/reports/{line}/{date}_{name}.json` (InfluxDB history)."""
    return ctx.config.gateway.data_dir / "reports" / line / f"{shift.id.replace('/', '_')}.json"


def _write_file(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)  # whole or not at all


async def _kept(
    ctx: ApiContext, spec: LineSpec, shift: ShiftInstance
) -> tuple[datetime, str] | None:
    """(built at, JSON) of the kept report, None when none is kept."""
    if isinstance(ctx.history, ReportStore):
        return await from_store("kept report", ctx.history.kept_report(spec.line, shift.id))
    path = report_path(ctx, spec.line, shift)
    if not path.exists():
        return None
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    return datetime.fromisoformat(json.loads(text)["built_at"]), text


async def _newer_input(
    ctx: ApiContext, spec: LineSpec, shift: ShiftInstance, built: datetime, now: datetime
) -> bool:
    """Did an operator change the shift's figures after `built` (a stop's reason or
    planned time in the shift, the shift's notes)?"""
    if not isinstance(ctx.history, OperatorHistory):
        return False
    rows = await from_store(
        "audit", ctx.history.audit(built + _MS, now + _MS, None, limits(ctx).max_rows)
    )
    start, end = rfc3339(shift.start), rfc3339(shift.end)
    for a in rows:
        if a.action == "notes" and a.line == spec.line and a.target == shift.id:
            return True
        in_shift = a.target is not None and start <= a.target < end
        if a.action in ("reason", "planned") and a.machine in spec.machines and in_shift:
            return True
    return False
