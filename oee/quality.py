"""Quality figures of counted parts: first-pass yield, scrap rate, the defect Pareto by
reject reason and a line's rolled throughput yield (docs/SPC.md "Quality figures").

Definitions, with their sources:
- **First-pass yield** (ISO 22400-2:2014, KPI "First pass yield"): FPY = GP / IP, the good
  parts over the parts inspected, where good means "fulfils the quality requirements in
  the first process run without rework". The gateway sees a machine's good and reject
  counts only, not serial numbers, so here FPY = good / total of the parts the machine
  counted (every counted part taken as inspected); a part booked as scrap later (moved
  from good to reject) did not pass first time and lowers it.
- **Scrap rate** (ISO 22400-2:2014, KPI "Scrap ratio"): SQ / PQ, the scrap quantity over
  the produced quantity. Without a rework count every reject is scrap, so the gateway's
  scrap rate is reject / total = 1 - FPY; they part once rework is counted apart.
- **Defect Pareto** (Juran; Montgomery, "Introduction to Statistical Quality Control",
  the Pareto chart among the "magnificent seven"; qcc `pareto.chart`): the rejects by
  reason, most frequent first, each with its share of all rejects and the cumulative
  share. The rejects nobody gave a reason stay one row, last ("other" goes last
  whatever its size), so the shares still add up to 1.
- **Rolled throughput yield** (Six Sigma: RTY = the product of the steps' first-pass
  yields, e.g. Cano, Moguerza & Redchuk, "Six Sigma with R", 2012, `ss.ca.yield`):
  the probability that a part passes every machine of a line first time.

Pure: no I/O, no clock; the caller sums the counts of the window it wants.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ParetoRow",
    "Rty",
    "Tally",
    "defect_pareto",
    "first_pass_yield",
    "rolled_throughput_yield",
    "scrap_rate",
]


def _ratio(part: float, total: float, what: str) -> float | None:
    if total < 0 or part < 0:
        raise ValueError(f"{what}: counts cannot be negative (got {part} of {total})")
    if part > total:
        raise ValueError(f"{what}: {part} is more than the {total} parts counted")
    return None if total == 0 else part / total


def first_pass_yield(good: float, total: float) -> float | None:
    """FPY = good / total (ISO 22400-2 GP / IP); None for no parts. A ValueError when
    `good` is negative or more than `total` (parts moved that this window did not count)."""
    return _ratio(good, total, "first-pass yield")


def scrap_rate(scrap: float, total: float) -> float | None:
    """Scrap ratio = scrap / total (ISO 22400-2 SQ / PQ); None for no parts. A ValueError
    when `scrap` is negative or more than `total`."""
    return _ratio(scrap, total, "scrap rate")


@dataclass(frozen=True, slots=True)
class Tally:
    """Counted parts of a window: sums of count deltas (`good` + `reject` = `total`;
    one of them may be negative in a window that only moved parts counted before it)."""

    total: int = 0
    good: int = 0
    reject: int = 0

    def plus(self, total: int, good: int, reject: int) -> Tally:
        return Tally(self.total + total, self.good + good, self.reject + reject)

    @property
    def consistent(self) -> bool:
        """Good and reject both within 0..total: the window's figures are computable."""
        return 0 <= self.good <= self.total and 0 <= self.reject <= self.total

    @property
    def fpy(self) -> float | None:
        """FPY, None without parts or when not `consistent`."""
        return first_pass_yield(self.good, self.total) if self.consistent else None

    @property
    def scrap_rate(self) -> float | None:
        """Scrap rate of the rejects, None without parts or when not `consistent`."""
        return scrap_rate(self.reject, self.total) if self.consistent else None


@dataclass(frozen=True, slots=True)
class ParetoRow:
    """One reason of the defect Pareto: `reason_code` None is the rejects without one."""

    reason_code: int | None
    reason: str
    count: int
    share: float
    cumulative: float


def defect_pareto(
    booked: Iterable[tuple[int, str, int]],
    unassigned: int = 0,
    unassigned_reason: str = "no reason given",
) -> list[ParetoRow]:
    """The Pareto of `booked` (reason code, reason text, quantity), summed by code (the
    text of its last entry), most first, ties by code; then `unassigned` rejects (if
    any) as the last row. Shares are of all the rejects the rows hold."""
    sums: dict[int, int] = {}
    names: dict[int, str] = {}
    for code, text, quantity in booked:
        if quantity < 0:
            raise ValueError(f"reason {code}: a quantity cannot be negative ({quantity})")
        sums[code] = sums.get(code, 0) + quantity
        names[code] = text
    if unassigned < 0:
        raise ValueError(f"unassigned rejects cannot be negative ({unassigned})")
    ranked = sorted(((c, n) for c, n in sums.items() if n), key=lambda cn: (-cn[1], cn[0]))
    order: list[tuple[int | None, str, int]] = [(c, names[c], n) for c, n in ranked]
    if unassigned:
        order.append((None, unassigned_reason, unassigned))
    whole = sum(n for _, _, n in order)  # > 0 whenever there is a row
    rows: list[ParetoRow] = []
    running = 0
    for reason_code, text, n in order:
        running += n
        rows.append(ParetoRow(reason_code, text, n, n / whole, running / whole))
    return rows


@dataclass(frozen=True, slots=True)
class Rty:
    """A line's rolled throughput yield over the machines that counted parts (`used`, in
    line order); `missing` counted none and are left out (not taken as 1.0). `rty` is
    None when no machine counted parts."""

    rty: float | None
    used: tuple[str, ...]
    missing: tuple[str, ...]


def rolled_throughput_yield(fpys: Sequence[tuple[str, float | None]]) -> Rty:
    """RTY = the product of the machines' FPYs, `fpys` in line order (machine, FPY or
    None for a machine without parts). A ValueError for an FPY outside 0..1."""
    used: list[str] = []
    missing: list[str] = []
    values: list[float] = []
    for machine, fpy in fpys:
        if fpy is None:
            missing.append(machine)
            continue
        if not 0.0 <= fpy <= 1.0 or math.isnan(fpy):
            raise ValueError(f"{machine}: a first-pass yield is within 0..1, not {fpy}")
        used.append(machine)
        values.append(fpy)
    rty = math.prod(values) if values else None
    return Rty(rty, tuple(used), tuple(missing))
