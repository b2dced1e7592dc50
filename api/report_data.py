"""The shift report of a line (issue 16, part 6): built as a history job (`api.offload`:
in a worker process) from the stored states, counts, the operator's input and alarms of
one shift occurrence; its sections come from `api.report_build`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from api.context import from_store
from api.oee_data import MachineInputs, RangeQuery, range_job
from api.offload import Cpu
from api.quality_data import MachineInputs as QualityInputs
from api.quality_data import machine_inputs
from api.quality_views import Span, line_quality, machine_quality
from api.report_build import (
    Doc,
    alarm_rows,
    figures,
    flags,
    loss_rows,
    output_doc,
    outside_plan,
    r3,
    scrap_rows,
    stop_rows,
)
from api.report_orders import changeover_rows, order_rows, plan_doc
from connectors.common.outputdoc import shift_document
from connectors.common.timefmt import rfc3339
from core.interfaces import AlarmReader, HistoryReader, OperatorHistory, OrderHistory, ReportStore
from core.orders import OrderTrack
from core.report import ReportLoss, ShiftReportDone
from core.types import CountDelta, OeeUpdate, ScrapBooked, ShiftRef
from edge.config import MachineConfig
from edge.engines.lines import LineSpec, line_update
from edge.engines.oee import ideal_cycle_s
from oee.calendar import Calendar, ShiftInstance
from oee.orders import WorkOrder
from oee.targets import Made, Output, combine_outputs, output, planned_spans

__all__ = ["ReportQuery", "report_event", "report_job"]

_MS = timedelta(milliseconds=1)
REPORT_VERSION = 3  # 2: `quality_figures` (issue 18); 3: orders, changeovers, plan (19)


@dataclass(frozen=True)
class ReportQuery:
    """A history job's arguments: the report of `spec`'s line for `shift` (a
    `ShiftInstance` of the line's calendar, named `ref`), as known at `now`; `calendar`
    the line's (its plan versus actual), `book` the gateway's orders of the line's
    machines with their start (None: not started; empty without a running gateway)."""

    spec: LineSpec
    shift: ShiftInstance
    ref: ShiftRef
    machines: dict[str, MachineInputs]
    line_target: float | None
    now: datetime
    budget: int
    calendar: Calendar | None = None
    book: tuple[tuple[WorkOrder, datetime | None], ...] = ()

    def machine(self, machine_id: str) -> MachineConfig:
        """A machine's config (`api.quality_views.MachineConfigs`: the products' names)."""
        return self.machines[machine_id].config


async def report_job(reader: HistoryReader, cpu: Cpu, q: ReportQuery) -> Doc:
    """The report's JSON document (a history job)."""
    until = min(q.now, q.shift.end)
    rq = RangeQuery(q.machines, q.shift.start, until, until, q.budget)  # (so far)
    updates = await range_job(reader, cpu, rq)
    tracks = {m: await _tracks(reader, q, m, until) for m in q.spec.machines}
    machines = [await _machine(reader, q, m, updates[m], until, tracks[m]) for m in q.spec.machines]
    line = line_update(q.spec, "shift", updates)
    outputs = [o for _, o, _ in machines if o is not None]
    line_out = combine_outputs(outputs, q.line_target)
    docs = [d for d, _, _ in machines]
    quality = _quality(q, until, docs, {d["machine"]: i for d, _, i in machines})
    note = None
    if isinstance(reader, OperatorHistory):
        note = await from_store("shift notes", reader.note(q.spec.area, q.spec.line, q.ref.id))
    return {
        "v": REPORT_VERSION,
        "line": q.spec.line,
        "area": q.spec.area,
        "shift": shift_document(q.ref),
        "timezone": q.ref.timezone,
        "final": q.now >= q.shift.end,
        "until": rfc3339(until),
        "built_at": rfc3339(q.now),
        **figures(line, None if line is None else line.report.coverage),
        "output": output_doc(line_out),
        "losses": loss_rows(None if line is None else line.report),
        "quality_figures": quality,
        "plan": _plan(q, [t for ts in tracks.values() for t in ts], until),
        "machines": [{k: v for k, v in d.items() if k not in _LISTS} for d in docs],
        **{k: [row for d in docs for row in d[k]] for k in _LISTS},
        "notes": None if note is None
        else {"text": note.text, "by": note.by, "ts": rfc3339(note.ts)},
    }  # fmt: skip


_LISTS = ("stops", "scrap", "alarms", "flags", "orders", "changeovers")
_SPAN = {"from_", "to", "shift", "day"}  # the report's own fields say these


async def _tracks(
    reader: HistoryReader, q: ReportQuery, machine: str, until: datetime
) -> list[OrderTrack]:
    """The orders published on `machine` in the shift so far (none without the store's
    order tables)."""
    if not isinstance(reader, OrderHistory):
        return []
    what = f"orders of {machine} in the shift report"
    return await from_store(what, reader.order_tracks(machine, q.shift.start, until + _MS))


def _plan(q: ReportQuery, tracks: list[OrderTrack], until: datetime) -> Doc | None:
    """Plan versus actual of the shift so far (None without the line's calendar)."""
    if q.calendar is None:
        return None
    return plan_doc(tracks, q.book, q.shift.start, q.shift.end, until, q.calendar)


def _quality(
    q: ReportQuery, until: datetime, docs: list[Doc], data: dict[str, QualityInputs]
) -> Doc:
    """The quality routes' figures of the shift so far (`api.quality_views`, of the same
    tallies): each machine's into its part (its flags that the report lacks added to its
    `flags`), and the line's (with its rolled throughput yield), returned."""
    span = Span(q.shift.start, until)
    for d in docs:
        figs = _doc(machine_quality(q, span, d["machine"], data), "machine")
        known = {f["flag"] for f in d["flags"]}
        d["flags"] += [f for f in figs["flags"] if f["flag"] not in known]
        d["quality_figures"] = figs
    rollup = (q.spec.mode, q.spec.bottleneck)
    return _doc(line_quality(q, span, q.spec.line, q.spec.machines, data, rollup), "line")


def _doc(out: BaseModel, key: str) -> Doc:
    """A quality answer as the report holds it: without the range (the report's own)."""
    return out.model_dump(mode="json", by_alias=True, exclude=_SPAN | {key})


async def _machine(
    reader: HistoryReader,
    q: ReportQuery,
    machine: str,
    u: OeeUpdate,
    until: datetime,
    tracks: list[OrderTrack],
) -> tuple[Doc, Output | None, QualityInputs]:
    """One machine's part of the report (its orders from `tracks`), its output (for the
    line's) and its quality inputs (for its and the line's quality figures)."""
    what = f"shift report of {machine}"
    start, end = q.shift.start, q.shift.end
    states = await from_store(what, reader.state_history(machine, start, end))
    counts = await from_store(what, reader.count_history(machine, start, end + _MS))
    counts = [c for c in counts if start < c.ts <= until]
    # Bookings and held counts of (start, until], as the counts and the quality routes.
    booked: list[ScrapBooked] | None = None
    audit, alarms, suspects = [], [], 0
    if isinstance(reader, OperatorHistory):
        booked = await from_store(what, reader.scrap(machine, start + _MS, until + _MS))
        audit = await from_store(what, reader.audit(start, q.now + _MS, machine, 100_000))
    if isinstance(reader, AlarmReader):
        alarms = await from_store(what, reader.alarms(start, until + _MS, machine))
    if isinstance(reader, ReportStore):
        suspects = await from_store(what, reader.suspects(machine, start + _MS, until + _MS))
    made = _output(q, machine, counts, until)
    changes: list[dict[str, Any]] = []
    if isinstance(reader, OrderHistory):
        changes = await from_store(what, reader.changeover_docs(machine, start, until + _MS))
    report = u.report
    coverage = None if report is None else report.coverage
    spans = planned_spans(q.machines[machine].calendar, start, end)
    doc: Doc = {
        "machine": machine,
        **figures(u, coverage),
        "output": output_doc(made),
        "losses": loss_rows(report),
        "stops": stop_rows(machine, states, start, until, audit),
        "scrap": scrap_rows(machine, booked or [], u.reject),
        "alarms": alarm_rows(alarms),
        "orders": order_rows(tracks),
        "changeovers": changeover_rows(machine, changes),
        "flags": flags(
            machine, coverage, bool(report and report.performance_flagged), suspects,
            outside_plan(counts, spans),
        ),
    }  # fmt: skip
    return doc, made, machine_inputs(counts, booked, suspects, start, until)


def _output(q: ReportQuery, machine: str, counts: list[CountDelta], until: datetime) -> Output:
    """The machine's output in the shift at `until` (`oee.targets.output`)."""
    m = q.machines[machine].config
    made: dict[str | None, list[int]] = {}
    for c in counts:
        tally = made.setdefault(c.product, [0, 0])
        tally[0] += c.good
        tally[1] += c.reject
    current = counts[-1].product if counts else None
    products = {*made, current}
    return output(
        q.shift, q.machines[machine].calendar, until,
        [Made(p, g, r) for p, (g, r) in made.items()],
        [(c.ts, c.good) for c in counts if c.good],
        ideal_s={p: ideal_cycle_s(m, p) for p in products}, current=current,
        per_hour=m.targets.per_hour if m.targets else None,
        per_shift=m.targets.per_shift if m.targets else None,
    )  # fmt: skip


def report_event(doc: Doc, ref: ShiftRef, built: datetime) -> ShiftReportDone:
    """The event that keeps `doc` in the store and publishes its summary."""
    out: dict[str, Any] = doc["output"] or {}
    losses = sorted((x for x in doc["losses"] if x["seconds"]), key=lambda x: -x["seconds"])
    stops = [s for s in doc["stops"] if not s["planned"]]
    plan: Doc = doc["plan"] or {}
    return ShiftReportDone(
        line=doc["line"], area=doc["area"], shift=ref, ts=built,
        oee=doc["oee"], availability=doc["availability"],
        performance=doc["performance"], quality=doc["quality"],
        good=out.get("good", 0), reject=out.get("reject", 0), total=out.get("total", 0),
        target=out.get("target"), attainment=out.get("attainment"),
        top_losses=tuple(ReportLoss(x["name"], x["seconds"], x["points"]) for x in losses[:3]),
        stops=len(stops), stop_s=r3(sum(s["duration_s"] for s in stops)) or 0.0,
        scrap=sum(s["quantity"] for s in doc["scrap"] if s["booked"]),
        alarms=len(doc["alarms"]),
        document=json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
        orders=len(doc["orders"]),
        orders_late=sum(o["status"] == "late" for o in doc["orders"]),
        changeovers=len(doc["changeovers"]),
        changeover_loss_s=r3(sum(c["loss_s"] or 0.0 for c in doc["changeovers"])) or 0.0,
        plan_attainment=plan.get("attainment"), otd_count=plan.get("otd_count"),
    )  # fmt: skip
