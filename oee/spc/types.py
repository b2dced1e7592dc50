"""The data of statistical process control (issue 18): subgroups, limits, judged points,
run-rule violations, specifications and capability. Frozen values; the computations are
in the sibling modules (`constants`, `limits`, `rules`, `capability`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = [
    "ATTRIBUTES", "VARIABLES", "Capability", "ChartKind", "Constants", "Limits", "Point",
    "RuleSet", "Spec", "Subgroup", "Violation",
]  # fmt: skip

ChartKind = Literal["imr", "xbar_r", "xbar_s", "p", "np", "c", "u"]
VARIABLES: frozenset[str] = frozenset({"imr", "xbar_r", "xbar_s"})
ATTRIBUTES: frozenset[str] = frozenset({"p", "np", "c", "u"})


@dataclass(frozen=True, slots=True)
class Constants:
    """The control chart constants for subgroups of `n` readings (ASTM MNL7; Montgomery,
    Introduction to Statistical Quality Control, Appendix VI)."""

    n: int
    d2: float
    d3: float
    c4: float
    A2: float
    A3: float
    B3: float
    B4: float
    D3: float
    D4: float


@dataclass(frozen=True, slots=True)
class Subgroup:
    """The raw data of one chart point, closed at `ts`: the readings of a variables chart
    (one for I-MR), or `count` rejects (p, np) or defects (c, u) in `size` parts inspected
    (p, np, u) or inspection units (c)."""

    ts: datetime
    values: tuple[float, ...] = ()
    count: float = 0
    size: float = 0


@dataclass(frozen=True, slots=True)
class Limits:
    """A chart's limits, computed from a Phase I baseline or set by hand. `center` is X̄̄,
    X̄ (I-MR), p̄, n·p̄, c̄ or ū; `sigma` the within-subgroup σ̂ of one reading (R̄/d2,
    S̄/c4 or MR̄/d2; 0 for attributes, whose σ is per point); `ucl`/`lcl` the primary
    chart's at subgroup size `n`; `spread_*` the R, S or MR chart's (None for attributes)."""

    kind: ChartKind
    center: float
    sigma: float
    n: float
    ucl: float
    lcl: float
    spread_center: float | None = None
    spread_ucl: float | None = None
    spread_lcl: float | None = None
    source: Literal["computed", "manual"] = "computed"
    subgroups: int = 0


@dataclass(frozen=True, slots=True)
class Point:
    """One plotted point judged against limits: `value` (x, x̄, p, np, c or u), `spread`
    (MR, R or S; None for the first I-MR point and attributes), its limits at its own `n`,
    `z` = (value − center) / σ of the plotted statistic, `zone` (`C+`, `B+`, `A+`,
    `beyond+` and the same with `-`), and whether the spread point is outside its limits."""

    ts: datetime
    value: float
    spread: float | None
    n: float
    center: float
    ucl: float
    lcl: float
    z: float
    zone: str
    spread_beyond: bool = False


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Which run rules judge a chart: Western Electric 1–4 and Nelson 1–8, by number."""

    western_electric: frozenset[int] = frozenset({1, 2, 3, 4})
    nelson: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Violation:
    """A run rule broken: `rule` (`WE1`…`WE4`, `N1`…`N8`, `SPREAD`), its `name`, the
    caller's sequence numbers of the points involved (oldest first, ending at the point
    that completed the pattern) and the side of the centre line (`+`, `-` or None)."""

    rule: str
    name: str
    points: tuple[int, ...]
    side: str | None = None


@dataclass(frozen=True, slots=True)
class Spec:
    """Specification limits and target of a characteristic (any may be missing)."""

    lsl: float | None = None
    usl: float | None = None
    target: float | None = None


@dataclass(frozen=True, slots=True)
class Capability:
    """Process capability (Montgomery §8.3; AIAG SPC manual): potential (Cp, Cpk from the
    within σ) and performance (Pp, Ppk from the overall σ), Cpm about the target, their
    confidence intervals where the textbook gives them, and the fraction out of spec,
    observed and expected under the normal model (ppm). None where a limit or σ is
    missing."""

    n: int
    subgroups: int
    mean: float
    sigma_within: float | None
    sigma_overall: float | None
    cp: float | None = None
    cpk: float | None = None
    cpu: float | None = None
    cpl: float | None = None
    pp: float | None = None
    ppk: float | None = None
    cpm: float | None = None
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    below_lsl: int = 0
    above_usl: int = 0
    observed_ppm: float = 0.0
    expected_ppm: float | None = None
    expected_within_ppm: float | None = None
