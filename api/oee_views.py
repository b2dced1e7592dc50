"""Pure builders from OEE updates (live or from history) to the OEE response models."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from api.oee_data import Figures, LineFigures, Period, between_shifts
from api.oee_schemas import (
    LineOeeOut,
    LossesOut,
    MachineParetoOut,
    RatiosOut,
    ReliabilityOut,
)
from api.schemas import NO_SHIFT, LossOut, OeeBrief, OeeOut, ParetoOut, WindowBrief
from connectors.common.oeedetails import day_document, finite, rounded, shift_document
from core.types import LineOeeUpdate, MachineRatios, OeeUpdate
from edge.engines.lines import LineSpec
from oee import LossReport, ReasonLoss, combine
from oee.losses import pareto_order


def plain(doc: Any) -> Any:
    """`doc` with its models as dicts, its floats `rounded` to what they mean (seconds
    3 decimals, ratios 4), ready for a response model."""
    if isinstance(doc, BaseModel):
        return plain(doc.model_dump())
    if isinstance(doc, dict):
        return rounded({k: plain(v) for k, v in doc.items()})
    if isinstance(doc, list):
        return [plain(v) for v in doc]
    return doc


def period_fields(window: str | None, u: OeeUpdate | LineOeeUpdate | None) -> dict[str, Any]:
    """`shift` (and `planned`) of the `shift` window's or a shift's figures, `day` of the
    `day` window's or a day's."""
    out: dict[str, Any] = {}
    if u is not None and u.shift is not None:
        out["shift"] = shift_document(u.shift)
    if u is not None and u.day is not None:
        out["day"] = day_document(u.day)
    if window == "shift":
        out["planned"] = None if u is None else True
    return out


def _no_shift() -> dict[str, Any]:
    return {"computed": False, "planned": False, "note": NO_SHIFT}


def oee_brief(u: OeeUpdate | None, window: str | None = None) -> OeeBrief:
    """The ratios of one window; all null with `computed: false` before the first update
    (and between shifts, with `planned: false`)."""
    if between_shifts(window, u):
        return OeeBrief.model_validate(_no_shift())
    if u is None:
        return OeeBrief.model_validate({"computed": False, **period_fields(window, u)})
    fields = {
        "computed": True,
        "ts": u.ts,
        "availability": u.availability,
        "performance": u.performance,
        "quality": u.quality,
        "oee": u.oee,
        **period_fields(window, u),
    }
    return OeeBrief.model_validate(plain(fields))


def window_brief(u: OeeUpdate | None, window: str | None = None) -> WindowBrief:
    """`oee_brief` with the window's coverage and performance flag (null until computed)."""
    brief = oee_brief(u, window).model_dump()
    if u is None or u.report is None:
        return WindowBrief(**brief)
    coverage = finite(u.report.coverage)
    return WindowBrief(
        **brief,
        coverage=None if coverage is None else round(coverage, 4),
        performance_flagged=u.report.performance_flagged,
    )


def oee_out(machine: str, window: str | None, u: OeeUpdate | None, source: str = "live") -> OeeOut:
    """Every figure of one update (nulls while not computed, so a dashboard can draw '–');
    `window` None: the update is of a `from`/`to` range computed from history."""
    fields: dict[str, Any] = {"machine": machine, "window": window, "source": source}
    if source == "live" and between_shifts(window, u):
        return OeeOut.model_validate({**fields, **_no_shift()})
    fields |= oee_brief(u, window).model_dump(exclude_unset=True)
    if u is not None:
        fields |= {
            "start": u.start,
            "window_s": u.window_s,
            "run_s": u.run_s,
            "planned_s": u.planned_s,
            "unknown_s": u.unknown_s,
            "total": u.total,
            "good": u.good,
            "reject": u.reject,
            "state_s": dict(u.state_s),
            "losses": loss_rows(u.report),
            "pareto": [pareto_row(p) for p in u.pareto],
            **u.details(),
        }
    return OeeOut.model_validate(plain(fields))


def loss_rows(report: LossReport | None) -> list[LossOut]:
    """The report's losses in the library's order (none without a report)."""
    if report is None:
        return []
    return [
        LossOut(name=x.name, factor=x.factor, seconds=x.seconds, points=x.points)
        for x in report.losses
    ]


def pareto_row(p: ReasonLoss) -> ParetoOut:
    return ParetoOut(
        state=p.state,
        reason_code=p.reason_code,
        reason=p.reason,
        count=p.count,
        seconds=p.seconds,
        share=p.share,
    )


def ratios(u: OeeUpdate | MachineRatios) -> RatiosOut:
    return RatiosOut(
        availability=u.availability, performance=u.performance, quality=u.quality, oee=u.oee
    )


def _span(fig: Figures) -> dict[str, Any]:
    start, end = fig.bounds()
    first = next(iter(fig.updates.values()), None)
    return {
        **period_fields(fig.period.window, first),
        **(_no_shift() if fig.no_shift else {}),
        "window": fig.period.window,
        "from_": start,
        "to": end,
        "source": fig.period.source,
        "computed": bool(fig.updates),
        "missing": list(fig.missing),
    }


def _reports(fig: Figures) -> dict[str, LossReport]:
    return {m: u.report for m, u in fig.updates.items() if u.report is not None}


def line_out(line: str | None, period: Period, spec: LineSpec, lf: LineFigures) -> LineOeeOut:
    """The answer of the line (or, `line` None, plant) route from the roll-up of its
    machines' figures, `lf.update` (None while no machine has figures of the window)."""
    lu = lf.update
    if period.window is None:
        start, end = period.start, period.end
    else:
        start, end = (lu.start, lu.ts) if lu is not None else (None, None)
    fields: dict[str, Any] = {
        "line": line,
        "window": period.window,
        "from_": start,
        "to": end,
        "source": period.source,
        "computed": lu is not None,
        "missing": list(lu.missing) if lu is not None else list(lf.missing),
        "mode": lu.mode if lu is not None else spec.mode,
        "bottleneck": lu.bottleneck if lu is not None else spec.bottleneck,
        **period_fields(period.window, lu),
    }
    if lf.no_shift:
        fields |= _no_shift()
    if lu is None:
        return LineOeeOut.model_validate({**fields, "losses": [], "machines": {}})
    fields |= lu.details()
    fields |= {
        "availability": lu.availability,
        "performance": lu.performance,
        "quality": lu.quality,
        "oee": lu.oee,
        "window_s": lu.window_s,
        "run_s": lu.run_s,
        "planned_s": lu.planned_s,
        "unknown_s": lu.unknown_s,
        "total": lu.total,
        "good": lu.good,
        "reject": lu.reject,
        "losses": loss_rows(lu.report),
        "machines": {r.machine: ratios(r) for r in lu.machines},
    }
    return LineOeeOut.model_validate(plain(fields))


def merged_pareto(updates: Mapping[str, OeeUpdate]) -> list[MachineParetoOut]:
    """Every machine's Pareto rows in one list, biggest first, each with its machine.
    With more than one machine the shares are of the machines' downtime together."""
    rows = [(m, p) for m, u in updates.items() for p in u.pareto]
    total = math.fsum(p.seconds for _, p in rows)
    rows.sort(key=lambda r: (pareto_order(r[1]), r[0]))
    single = len(updates) == 1
    return [
        MachineParetoOut(
            machine=m,
            **pareto_row(p).model_dump(exclude={"share"}),
            share=p.share if single else p.seconds / total,
        )
        for m, p in rows
    ]


def losses_out(machine: str | None, line: str | None, fig: Figures) -> LossesOut:
    """The losses, downtime Pareto and reliability of a machine or a line."""
    reports = _reports(fig)
    total = combine(reports.values()) if reports else None
    rel = total.reliability if total is not None else None
    out = LossesOut(
        machine=machine,
        line=line,
        planned_s=total.planned_s if total is not None else None,
        fully_productive_s=total.fully_productive_s if total is not None else None,
        losses=loss_rows(total),
        pareto=merged_pareto(fig.updates),
        reliability=ReliabilityOut(failures=rel.failures, mtbf_s=rel.mtbf_s, mttr_s=rel.mttr_s)
        if rel is not None
        else None,
        **_span(fig),
    )
    return LossesOut.model_validate(plain(out.model_dump(exclude_unset=True)))
