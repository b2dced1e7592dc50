"""The SPC answers built from the engine's and the store's values: a chart's state (the
`…/spc/{chart}` document of the live view), its points and violations, zones, a baseline
and capability, rounded as on MQTT (6 significant digits, `connectors.common.spcdoc`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.common.spcdoc import SpcCharts, sig, size
from core.spc import SpcPoint, SpcViolation
from edge.config import Config
from edge.config.spc import ChartConfig
from edge.pipeline.live import LiveView, spc_chart_infos
from oee.spc import Capability, Spec

__all__ = [
    "MIN_SUBGROUPS", "capability_document", "capability_flags", "chart_state", "find_chart",
    "point_document", "violation_document", "zones",
]  # fmt: skip


def find_chart(config: Config, chart: str) -> ChartConfig | None:
    """The configured chart `chart` (None: not configured)."""
    return next((c for c in config.spc.charts if c.id == chart), None)


def chart_state(config: Config, live: LiveView, chart: ChartConfig) -> dict[str, Any]:
    """The chart state as `…/spc/{chart}` carries it, from the live view, plus `machine`
    and `source`. Its latest limits change or point, whichever came last, sets the phase."""
    charts = SpcCharts(spc_chart_infos(config))
    point, change = live.spc_points.get(chart.id), live.spc_limits.get(chart.id)
    ordered = sorted((e for e in (point, change) if e is not None), key=lambda e: e.ts)
    for event in ordered:
        charts.take(event)
    doc = charts.document(chart.id)
    doc["kind"] = doc["kind"] or chart.kind
    return {"machine": chart.machine, "source": chart.source, **doc}


def point_document(p: SpcPoint) -> dict[str, Any]:
    """One stored point."""
    return {
        "seq": p.seq, "ts": p.ts, "value": sig(p.value), "spread": sig(p.spread),
        "n": size(p.n), "center": sig(p.center), "ucl": sig(p.ucl), "lcl": sig(p.lcl),
        "zone": p.zone, "violations": list(p.violations), "phase": p.phase,
        "product": p.product, "held": p.held,
    }  # fmt: skip


def violation_document(v: SpcViolation) -> dict[str, Any]:
    """One stored violation."""
    return {
        "seq": v.seq, "ts": v.ts, "rule": v.rule, "name": v.name, "points": list(v.points),
        "side": v.side, "value": sig(v.value), "phase": v.phase,
    }  # fmt: skip


def zones(limits: dict[str, Any] | None) -> dict[str, list[float | None]] | None:
    """The zone bands at the limits' `n`: C within 1σ of the centre line, B within 2σ, A
    within 3σ (σ of the plotted statistic, (UCL − CL)/3), each as [low, high]."""
    if limits is None:
        return None
    center, ucl = limits["center"], limits["ucl"]
    step = (ucl - center) / 3
    return {k: [sig(center - i * step), sig(center + i * step)] for k, i in
            (("c", 1), ("b", 2), ("a", 3))}  # fmt: skip


def capability_document(
    cap: Capability, spec: Spec, chart: str, span: tuple[datetime, datetime], product: str | None
) -> dict[str, Any]:
    """The capability answer (docs/SPC.md "Capability")."""
    figures = ("mean", "sigma_within", "sigma_overall", "cp", "cpk", "cpu", "cpl", "pp",
               "ppk", "cpm", "observed_ppm", "expected_ppm", "expected_within_ppm")  # fmt: skip
    return {
        "chart": chart, "from": span[0], "to": span[1], "product": product,
        "spec": {"lsl": spec.lsl, "usl": spec.usl, "target": spec.target},
        "n": cap.n, "subgroups": cap.subgroups,
        **{f: sig(getattr(cap, f)) for f in figures},
        "ci": {k: [sig(lo), sig(hi)] for k, (lo, hi) in cap.ci.items()},
        "below_lsl": cap.below_lsl, "above_usl": cap.above_usl,
    }  # fmt: skip


#: AIAG SPC manual (2nd ed., ch. IV): a capability study wants 25 or more subgroups
#: (about 100 readings) from a process in statistical control.
MIN_SUBGROUPS = 25


def capability_flags(subgroups: int, broken: int, held: int) -> list[dict[str, Any]]:
    """What limits trust in a capability figure: `few_subgroups` (fewer than 25),
    `out_of_control` (points of the range broke run rules: how many), `held` (readings
    held out of the range's points)."""
    flags: list[dict[str, Any]] = []
    if subgroups < MIN_SUBGROUPS:
        flags.append({"flag": "few_subgroups", "value": subgroups})
    if broken:
        flags.append({"flag": "out_of_control", "value": broken})
    if held:
        flags.append({"flag": "held", "value": held})
    return flags
