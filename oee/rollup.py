"""Line and plant OEE from machines' loss reports: sums of times and ideal-time-weighted
counts, never the mean of percentages; a bottleneck-based line OEE as an option."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from oee.losses import LossReport

RollupMode = Literal["sum", "bottleneck"]


def combine(reports: Iterable[LossReport]) -> LossReport:
    """The sum of reports (machines of a line, or consecutive windows): times, counts, ideal
    times and failures add up, and every ratio is recomputed from the sums."""
    items = list(reports)
    if not items:
        raise ValueError("nothing to combine")
    return LossReport.sum_of(items)


@dataclass(frozen=True, slots=True)
class LineOee:
    """Line (or plant) OEE: `total` is the sum of the machines' reports; the ratios are
    its own in "sum" mode, and the bottleneck definition in "bottleneck" mode."""

    mode: RollupMode
    bottleneck: str | None
    total: LossReport
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None

    @property
    def performance_flagged(self) -> bool:
        """P above 1: usually an ideal cycle time set too long."""
        return self.performance is not None and self.performance > 1


def rollup(
    reports: Mapping[str, LossReport],
    *,
    mode: RollupMode = "sum",
    bottleneck: str | None = None,
) -> LineOee:
    """Line OEE from the machines' reports (keyed by machine id), never a mean of ratios.

    "sum": A, P, Q and OEE of the summed times and ideal-time-weighted counts, i.e. the
    share of all machines' planned time that was fully productive.

    "bottleneck": for a serial line paced by `bottleneck`. A and P are the bottleneck's (it
    sets the line's output rate); Q is the line's rolled throughput yield, the product of
    every machine's Q (machines without counts are left out: they rejected nothing), since
    a part leaves the line good only if every station passed it. OEE = A x P x Q; None when
    the bottleneck has no planned time, 0 when it ran or counted nothing.
    """
    total = combine(reports.values())
    if mode == "sum":
        if bottleneck is not None:
            raise ValueError("bottleneck is only used in bottleneck mode")
        return LineOee(
            "sum", None, total, total.availability, total.performance, total.quality, total.oee
        )
    if mode != "bottleneck":
        raise ValueError(f"mode must be 'sum' or 'bottleneck', got {mode!r}")
    if bottleneck is None or bottleneck not in reports:
        raise ValueError(f"bottleneck {bottleneck!r} is not among the reports")
    neck = reports[bottleneck]
    qs = [r.quality for r in reports.values() if r.quality is not None]
    a, p, q = neck.availability, neck.performance, math.prod(qs) if qs else None
    oee = None if a is None else (a * p * q if p is not None and q is not None else 0.0)
    return LineOee("bottleneck", bottleneck, total, a, p, q, oee)
