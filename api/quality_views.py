"""The quality answers from a range's inputs (`api.quality_data`) with `oee.quality`:
a machine's figures, by product, its defect Pareto and flags; a line's summed with its
rolled throughput yield."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from api.quality_data import MachineInputs
from api.quality_schemas import (
    LineQualityOut,
    MachineFpyOut,
    MachineQualityOut,
    ParetoReasonOut,
    ProductQualityOut,
    QualityFlagOut,
)
from api.report_build import COUNTED_BY_MACHINE
from api.schemas import DayOut, ShiftOut
from edge.config import MachineConfig
from oee.quality import Tally, defect_pareto, rolled_throughput_yield

__all__ = ["MachineConfigs", "Span", "line_quality", "machine_quality"]


class MachineConfigs(Protocol):
    """Where the products' names come from: the `Config`, or a shift report's query."""

    def machine(self, machine_id: str) -> MachineConfig: ...


@dataclass(frozen=True)
class Span:
    """The range the figures are of, and the shift or plant day it is (if one)."""

    start: datetime
    end: datetime
    shift: ShiftOut | None = None
    day: DayOut | None = None


def _r4(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def _sum(tallies: Iterable[Tally]) -> Tally:
    out = Tally()
    for t in tallies:
        out = out.plus(t.total, t.good, t.reject)
    return out


def _products(
    config: MachineConfigs, machines: Sequence[str], data: dict[str, MachineInputs]
) -> list:
    by: dict[str | None, Tally] = {}
    names: dict[str | None, str | None] = {}
    for m in machines:
        configured = config.machine(m).products
        for product, t in data[m].counts.items():
            by[product] = _sum([by.get(product, Tally()), t])
            cfg = configured.get(product) if product is not None else None
            names.setdefault(product, cfg.name if cfg is not None else None)
    order = sorted(by, key=lambda p: (p is None, p or ""))
    return [
        ProductQualityOut(
            product=p, name=names[p], total=by[p].total, good=by[p].good,
            reject=by[p].reject, fpy=_r4(by[p].fpy), scrap_rate=_r4(by[p].scrap_rate),
        )
        for p in order
    ]  # fmt: skip


def _flags(machine: str, inputs: MachineInputs) -> list[QualityFlagOut]:
    out: list[QualityFlagOut] = []
    if inputs.suspects:
        out.append(QualityFlagOut(machine=machine, flag="suspect_counts", value=inputs.suspects))
    t = _sum(inputs.counts.values())
    if not t.consistent:
        excess = max(-t.good, -t.reject, t.good - t.total, t.reject - t.total)
        out.append(QualityFlagOut(machine=machine, flag="moves_before_window", value=excess))
    if not inputs.operator_input:
        out.append(QualityFlagOut(machine=machine, flag="no_scrap_reasons"))
    return out


def _figures(
    config: MachineConfigs, span: Span, machines: Sequence[str], data: dict[str, MachineInputs]
) -> dict[str, Any]:
    """The fields both answers share, of `machines` summed."""
    tally = _sum(t for m in machines for t in data[m].counts.values())
    booked = [b for m in machines for b in data[m].booked]
    scrap_booked = sum(q for _, _, q in booked)
    unassigned = max(0, tally.reject - scrap_booked)
    pareto = defect_pareto(booked, unassigned, COUNTED_BY_MACHINE)
    return {
        "from_": span.start, "to": span.end, "shift": span.shift, "day": span.day,
        "total": tally.total, "good": tally.good, "reject": tally.reject,
        "scrap_booked": scrap_booked, "fpy": _r4(tally.fpy),
        "scrap_rate": _r4(tally.scrap_rate),
        "products": _products(config, machines, data),
        "pareto": [
            ParetoReasonOut(reason_code=r.reason_code, reason=r.reason, count=r.count,
                            share=round(r.share, 4), cumulative=round(r.cumulative, 4))
            for r in pareto
        ],
        "flags": [f for m in machines for f in _flags(m, data[m])],
    }  # fmt: skip


def machine_quality(
    config: MachineConfigs, span: Span, machine: str, data: dict[str, MachineInputs]
) -> MachineQualityOut:
    """A machine's answer."""
    return MachineQualityOut(machine=machine, **_figures(config, span, [machine], data))


def line_quality(
    config: MachineConfigs,
    span: Span,
    line: str,
    machines: Sequence[str],
    data: dict[str, MachineInputs],
) -> LineQualityOut:
    """A line's answer: its machines (in line order) summed, and their RTY."""
    tallies = {m: _sum(data[m].counts.values()) for m in machines}
    rty = rolled_throughput_yield([(m, tallies[m].fpy) for m in machines])
    rows = [MachineFpyOut(machine=m, total=tallies[m].total, fpy=_r4(tallies[m].fpy))
            for m in machines]  # fmt: skip
    return LineQualityOut(
        line=line, rty=_r4(rty.rty), machines=rows, missing=list(rty.missing),
        **_figures(config, span, machines, data),
    )  # fmt: skip
