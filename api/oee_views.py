"""Pure builders from OEE updates (live or from history) to the OEE response models."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from api.oee_data import Figures
from api.oee_schemas import (
    LineOeeOut,
    LossesOut,
    MachineParetoOut,
    RatiosOut,
    ReliabilityOut,
)
from api.schemas import LossOut, OeeBrief, OeeOut, ParetoOut
from edge.types import OeeUpdate
from oee import LineOee, LossReport, ReasonLoss, combine, rollup
from oee.rollup import RollupMode


def oee_brief(u: OeeUpdate | None) -> OeeBrief:
    """The ratios of one window; all null with `computed: false` before the first update."""
    if u is None:
        return OeeBrief(computed=False)
    return OeeBrief(
        computed=True,
        ts=u.ts,
        availability=u.availability,
        performance=u.performance,
        quality=u.quality,
        oee=u.oee,
    )


def oee_out(machine: str, window: str | None, u: OeeUpdate | None, source: str = "live") -> OeeOut:
    """Every figure of one update (nulls while not computed, so a dashboard can draw '–');
    `window` None: the update is of a `from`/`to` range computed from history."""
    fields: dict[str, Any] = {"machine": machine, "window": window, "source": source}
    fields |= oee_brief(u).model_dump()
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
    return OeeOut.model_validate(fields)


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


def ratios(u: OeeUpdate) -> RatiosOut:
    return RatiosOut(
        availability=u.availability, performance=u.performance, quality=u.quality, oee=u.oee
    )


def _span(fig: Figures) -> dict[str, Any]:
    start, end = fig.bounds()
    return {
        "window": fig.period.window,
        "from_": start,
        "to": end,
        "source": fig.period.source,
        "computed": bool(fig.updates),
        "missing": list(fig.missing),
    }


def _reports(fig: Figures) -> dict[str, LossReport]:
    return {m: u.report for m, u in fig.updates.items() if u.report is not None}


def line_rollup(
    reports: Mapping[str, LossReport], mode: RollupMode, bottleneck: str | None
) -> LineOee | None:
    """`oee.rollup` of the machines that have figures; None if none has. In bottleneck mode
    without the bottleneck's figures, the sums stand and the ratios are null."""
    if not reports:
        return None
    if mode == "bottleneck" and bottleneck not in reports:
        return LineOee(mode, bottleneck, combine(reports.values()), None, None, None, None)
    return rollup(reports, mode=mode, bottleneck=bottleneck)


def _summed(name: str, fig: Figures, total: LossReport) -> OeeUpdate:
    """The machines' summed report as an update, for the same field names as a machine's."""
    start, end = fig.bounds()
    assert end is not None  # there are updates, so there is an end
    return OeeUpdate.of(name, fig.period.window or "range", start or end, end, total)


def line_out(line: str, mode: RollupMode, bottleneck: str | None, fig: Figures) -> LineOeeOut:
    """The line's figures from its machines' (see `LineOeeOut`)."""
    fields: dict[str, Any] = {"line": line, "mode": mode, "bottleneck": bottleneck}
    fields |= _span(fig)
    fields["machines"] = {m: ratios(u) for m, u in fig.updates.items()}
    lo = line_rollup(_reports(fig), mode, bottleneck)
    if lo is None:
        return LineOeeOut.model_validate({**fields, "losses": []})
    s = _summed(line, fig, lo.total)
    fields |= s.details()
    fields |= {
        "availability": lo.availability,
        "performance": lo.performance,
        "quality": lo.quality,
        "oee": lo.oee,
        "performance_flagged": lo.performance_flagged,
        "window_s": s.window_s,
        "run_s": s.run_s,
        "planned_s": s.planned_s,
        "unknown_s": s.unknown_s,
        "total": s.total,
        "good": s.good,
        "reject": s.reject,
        "losses": loss_rows(lo.total),
    }
    return LineOeeOut.model_validate(fields)


def merged_pareto(updates: Mapping[str, OeeUpdate]) -> list[MachineParetoOut]:
    """Every machine's Pareto rows in one list, biggest first, each with its machine.
    With more than one machine the shares are of the machines' downtime together."""
    rows = [(m, p) for m, u in updates.items() for p in u.pareto]
    total = math.fsum(p.seconds for _, p in rows)
    rows.sort(key=lambda r: (_pareto_order(r[1]), r[0]))
    single = len(updates) == 1
    return [
        MachineParetoOut(
            machine=m,
            **pareto_row(p).model_dump(exclude={"share"}),
            share=p.share if single else p.seconds / total,
        )
        for m, p in rows
    ]


def _pareto_order(p: ReasonLoss) -> tuple[float, int, str, int, str]:
    """The order of `oee.pareto`: biggest first, ties in a stable order."""
    return (-p.seconds, -p.count, p.state, p.reason_code or 0, p.reason or "")


def losses_out(machine: str | None, line: str | None, fig: Figures) -> LossesOut:
    """The losses, downtime Pareto and reliability of a machine or a line."""
    reports = _reports(fig)
    total = combine(reports.values()) if reports else None
    rel = total.reliability if total is not None else None
    return LossesOut(
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
