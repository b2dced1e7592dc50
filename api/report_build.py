"""The shift report's sections from what the store holds (pure: no I/O, no clock).

`api.report_data` reads a shift's history and hands it here; the result is the JSON
document of `GET /api/v1/shifts/{date}/{name}/report` (docs/API.md "Shift report").
Ratios round to 4 decimals, seconds to 3.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from connectors.common.oeedetails import finite
from connectors.common.outputdoc import output_figures
from connectors.common.timefmt import rfc3339
from core.alarms import Alarm
from core.types import AuditEntry, CountDelta, ScrapBooked, StateRecord
from oee.states import MachineState
from oee.targets import Output

__all__ = [
    "COUNTED_BY_MACHINE",
    "LOW_COVERAGE",
    "alarm_rows",
    "figures",
    "flags",
    "loss_rows",
    "output_doc",
    "scrap_rows",
    "stop_rows",
]

Doc = dict[str, Any]
#: Below this coverage a figure rests on too little data (the live page's threshold).
LOW_COVERAGE = 0.5
#: The reason of the rejects nobody booked by hand: the machine counted them.
COUNTED_BY_MACHINE = "counted by the machine"


def r4(v: float | None) -> float | None:
    f = finite(v)
    return None if f is None else round(f, 4)


def r3(v: float | None) -> float | None:
    f = finite(v)
    return None if f is None else round(f, 3)


def figures(source: Any, coverage: float | None) -> Doc:
    """OEE, A, P, Q (0..1) and coverage of an `OeeUpdate` or `LineOeeUpdate` (None: no
    figures)."""
    if source is None:
        return {k: None for k in ("oee", "availability", "performance", "quality", "coverage")}
    return {
        "oee": r4(source.oee),
        "availability": r4(source.availability),
        "performance": r4(source.performance),
        "quality": r4(source.quality),
        "coverage": r4(coverage),
    }


def loss_rows(report: Any) -> list[Doc]:
    """The six big losses (and idle, unknown) in seconds and OEE points (0..1)."""
    if report is None:
        return []
    return [
        {"name": x.name, "factor": x.factor, "seconds": r3(x.seconds), "points": r4(x.points)}
        for x in report.losses
    ]


def output_doc(o: Output | None) -> Doc | None:
    """Good, reject, total against the target; `attainment` = good / target."""
    if o is None:
        return None
    figs = output_figures(o)
    attainment = o.good / o.target if o.target else None
    return {k: figs[k] for k in ("good", "reject", "total", "target")} | {
        "attainment": r4(attainment)
    }


def _by_of(audit: Iterable[AuditEntry]) -> dict[tuple[str | None, str | None], str]:
    """Who gave each stop its (latest) reason: (machine, stop start) -> key name."""
    return {(a.machine, a.target): a.by for a in audit if a.action == "reason"}


def stop_rows(
    machine: str,
    states: Sequence[StateRecord],
    start: datetime,
    until: datetime,
    audit: Iterable[AuditEntry],
) -> list[Doc]:
    """Every stop (a state other than running) of [start, until), clipped to it: its
    start, end, seconds, state, reason, who gave the reason, and whether it is planned
    (a planned stop, or a stop turned into planned time)."""
    by = _by_of(audit)
    ordered = sorted(states, key=lambda s: s.ts)
    rows: list[Doc] = []
    for i, s in enumerate(ordered):
        end = ordered[i + 1].ts if i + 1 < len(ordered) else until
        a, b = max(s.ts, start), min(end, until)
        if s.state == MachineState.RUNNING or b <= a:
            continue
        rows.append(
            {
                "machine": machine, "start": rfc3339(a), "end": rfc3339(b),
                "duration_s": r3((b - a).total_seconds()), "state": s.state.value,
                "reason_code": s.reason_code, "reason": s.reason,
                "by": by.get((machine, rfc3339(s.ts))),
                "planned": s.state == MachineState.PLANNED_STOP or s.planned_kind is not None,
                "planned_kind": s.planned_kind, "planned_reason": s.planned_reason,
            }
        )  # fmt: skip
    return rows


def scrap_rows(machine: str, booked: Sequence[ScrapBooked], rejects: int) -> list[Doc]:
    """Scrap booked by hand summed by reason code (with its text), then the rejects
    nobody booked (`reason_code` null, "counted by the machine")."""
    sums: dict[tuple[int, str], int] = {}
    for b in booked:
        sums[b.reason_code, b.reason] = sums.get((b.reason_code, b.reason), 0) + b.quantity
    rows: list[Doc] = [
        {"machine": machine, "reason_code": code, "reason": text, "quantity": q, "booked": True}
        for (code, text), q in sorted(sums.items())
    ]
    machine_rejects = rejects - sum(sums.values())
    if machine_rejects > 0:
        rows.append(
            {"machine": machine, "reason_code": None, "reason": COUNTED_BY_MACHINE,
             "quantity": machine_rejects, "booked": False}
        )  # fmt: skip
    return rows


def alarm_rows(alarms: Iterable[Alarm]) -> list[Doc]:
    """The alarms active in the shift, as they stand: raised, cleared, who acknowledged."""
    return [
        {
            "machine": a.machine, "rule": a.rule, "severity": a.severity,
            "message": a.message, "raised": rfc3339(a.raised),
            "cleared": rfc3339(a.cleared) if a.cleared else None, "acked_by": a.acked_by,
            "acked_at": rfc3339(a.acked_at) if a.acked_at else None,
        }
        for a in sorted(alarms, key=lambda a: (a.raised, a.machine))
    ]  # fmt: skip


def flags(
    machine: str,
    coverage: float | None,
    performance_flagged: bool,
    suspects: int,
    outside: int,
) -> list[Doc]:
    """What makes a machine's figures doubtful: held suspect counts, P above 100 % (a
    probable wrong ideal cycle time), low coverage, parts made in planned stop time."""
    out: list[Doc] = []
    if suspects:
        out.append({"machine": machine, "flag": "suspect_counts", "value": suspects})
    if performance_flagged:
        out.append({"machine": machine, "flag": "performance_above_100", "value": None})
    if coverage is not None and coverage < LOW_COVERAGE:
        out.append({"machine": machine, "flag": "low_coverage", "value": r4(coverage)})
    if outside:
        out.append({"machine": machine, "flag": "production_in_planned_stop", "value": outside})
    return out


def outside_plan(counts: Iterable[CountDelta], spans: Sequence[tuple[datetime, datetime]]) -> int:
    """Parts counted in none of the planned production `spans` (start < ts <= end)."""
    return sum(c.total for c in counts if not any(a < c.ts <= b for a, b in spans))
