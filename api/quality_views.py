"""The quality answers from a range's inputs (`api.quality_data`) with `oee.quality`:
a machine's figures, by product, its defect Pareto and flags; a line's summed with its
rolled throughput yield. Each carries, next to its FPY, the OEE quality factor Q of the
same counts (`oee_quality`, by the OEE library's own sums), so that a reader sees both
figures of one range side by side and why they differ (docs/SPC.md "FPY and the OEE
quality factor Q")."""

from __future__ import annotations

import math
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
from edge.engines.oee import ideal_cycle_s
from oee.quality import Tally, defect_pareto, rolled_throughput_yield
from oee.rollup import RollupMode
from oee.timemodel import Counts, Production

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


def _ideal(config: MachineConfigs, machine: str, inputs: MachineInputs, at: datetime) -> Counts:
    """The machine's counts with their ideal times, clamped, as the OEE figures sum them
    (docs/OEE.md §1 rule 4, §2): each product's parts at its ideal cycle time."""
    cfg = config.machine(machine)
    made = [Production(at, t.total, t.good, t.reject, ideal_cycle_s(cfg, p), p)
            for p, t in inputs.counts.items()]  # fmt: skip
    return Counts.of(made).clamped()


def _q(c: Counts) -> float | None:
    """Q = ideal time of the good parts / ideal time of all (`oee.losses`' ratio)."""
    return c.fully_productive_ns / c.ideal_ns if c.ideal_ns > 0 else None


def _products(
    config: MachineConfigs, machines: Sequence[str], data: dict[str, MachineInputs]
) -> list:
    by: dict[str | None, Tally] = {}
    names: dict[str | None, str | None] = {}
    cycles: dict[str | None, set[float]] = {}
    for m in machines:
        machine = config.machine(m)
        for product, t in data[m].counts.items():
            by[product] = _sum([by.get(product, Tally()), t])
            cfg = machine.products.get(product) if product is not None else None
            names.setdefault(product, cfg.name if cfg is not None else None)
            cycles.setdefault(product, set()).add(ideal_cycle_s(machine, product))
    order = sorted(by, key=lambda p: (p is None, p or ""))
    return [
        ProductQualityOut(
            product=p, name=names[p],
            ideal_cycle_s=next(iter(cycles[p])) if len(cycles[p]) == 1 else None,
            total=by[p].total, good=by[p].good,
            reject=by[p].reject, fpy=_r4(by[p].fpy), scrap_rate=_r4(by[p].scrap_rate),
        )
        for p in order
    ]  # fmt: skip


def _flags(machine: str, inputs: MachineInputs, q: float | None) -> list[QualityFlagOut]:
    out: list[QualityFlagOut] = []
    if inputs.suspects:
        out.append(QualityFlagOut(machine=machine, flag="suspect_counts", value=inputs.suspects))
    t = _sum(inputs.counts.values())
    if not t.consistent:
        excess = max(-t.good, -t.reject, t.good - t.total, t.reject - t.total)
        out.append(QualityFlagOut(machine=machine, flag="moves_before_window", value=excess))
    if not inputs.operator_input:
        out.append(QualityFlagOut(machine=machine, flag="no_scrap_reasons"))
    # Only a difference the answer shows (4 decimals): with one ideal cycle time the two
    # are the same quotient.
    if t.fpy is not None and q is not None and _r4(t.fpy) != _r4(q):
        out.append(QualityFlagOut(machine=machine, flag="q_weighted_by_cycle"))
    return out


def _figures(
    config: MachineConfigs,
    span: Span,
    machines: Sequence[str],
    data: dict[str, MachineInputs],
    q: float | None,
) -> dict[str, Any]:
    """The fields both answers share, of `machines` summed; `q` their OEE quality."""
    tally = _sum(t for m in machines for t in data[m].counts.values())
    booked = [b for m in machines for b in data[m].booked]
    scrap_booked = sum(n for _, _, n in booked)
    unassigned = max(0, tally.reject - scrap_booked)
    pareto = defect_pareto(booked, unassigned, COUNTED_BY_MACHINE)
    qs = {m: _q(_ideal(config, m, data[m], span.end)) for m in machines}
    return {
        "from_": span.start, "to": span.end, "shift": span.shift, "day": span.day,
        "total": tally.total, "good": tally.good, "reject": tally.reject,
        "scrap_booked": scrap_booked, "fpy": _r4(tally.fpy),
        "scrap_rate": _r4(tally.scrap_rate), "oee_quality": _r4(q),
        "products": _products(config, machines, data),
        "pareto": [
            ParetoReasonOut(reason_code=r.reason_code, reason=r.reason, count=r.count,
                            share=round(r.share, 4), cumulative=round(r.cumulative, 4))
            for r in pareto
        ],
        "flags": [f for m in machines for f in _flags(m, data[m], qs[m])],
    }  # fmt: skip


def machine_quality(
    config: MachineConfigs, span: Span, machine: str, data: dict[str, MachineInputs]
) -> MachineQualityOut:
    """A machine's answer."""
    q = _q(_ideal(config, machine, data[machine], span.end))
    return MachineQualityOut(machine=machine, **_figures(config, span, [machine], data, q))


def _line_q(
    config: MachineConfigs,
    span: Span,
    machines: Sequence[str],
    data: dict[str, MachineInputs],
    rollup: tuple[RollupMode, str | None] = ("sum", None),
) -> float | None:
    """The line's Q as its OEE figures give it (`oee.rollup`): of the machines' summed
    ideal times ("sum"), or the product of the machines' Q, those without parts left out
    ("bottleneck", where it compares with the RTY rather than the line's FPY)."""
    counts = [_ideal(config, m, data[m], span.end) for m in machines]
    if rollup[0] == "sum":
        return _q(sum(counts, Counts()))
    qs = [q for q in map(_q, counts) if q is not None]
    return math.prod(qs) if qs else None


def line_quality(
    config: MachineConfigs,
    span: Span,
    line: str,
    machines: Sequence[str],
    data: dict[str, MachineInputs],
    rollup: tuple[RollupMode, str | None] = ("sum", None),
) -> LineQualityOut:
    """A line's answer: its machines (in line order) summed, and their RTY; `rollup` the
    line's (mode, bottleneck), for its `oee_quality`."""
    tallies = {m: _sum(data[m].counts.values()) for m in machines}
    rty = rolled_throughput_yield([(m, tallies[m].fpy) for m in machines])
    rows = [MachineFpyOut(machine=m, total=tallies[m].total, fpy=_r4(tallies[m].fpy))
            for m in machines]  # fmt: skip
    q = _line_q(config, span, machines, data, rollup)
    return LineQualityOut(
        line=line, rty=_r4(rty.rty), machines=rows, missing=list(rty.missing),
        **_figures(config, span, machines, data, q),
    )  # fmt: skip
