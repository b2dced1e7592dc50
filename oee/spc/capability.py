"""Process capability over a window of subgroups, from running sums (O(1) per subgroup).

Formulas (Montgomery, Introduction to Statistical Quality Control, 7th ed., §8.3; AIAG SPC
manual, 2nd ed., ch. IV; NIST/SEMATECH e-Handbook §6.1.6):
- σ_within: I-MR MR̄/d2(2); X̄-R mean of Rᵢ/d2(nᵢ) (R̄/d2 for one size); X̄-S mean of
  sᵢ/c4(nᵢ) (S̄/c4) — the same σ̂ as the chart's limits; σ_overall: the sample standard
  deviation of all readings (n − 1), by Welford's running sums.
- Cp = (USL − LSL)/6σw, Cpu = (USL − x̄)/3σw, Cpl = (x̄ − LSL)/3σw, Cpk = min(Cpu, Cpl)
  (the one present with one limit); Pp, Ppk the same with σ_overall.
- Cpm = (USL − LSL)/(6√(s² + (x̄ − T)²)) with the overall s, only with a target T (Chan,
  Cheng and Spiring 1988; Montgomery §8.3.4, V = (x̄ − T)/S; NIST §6.1.6; as Minitab up to
  its n/(n − 1) on (x̄ − T)²). qcc uses σw instead (docs/SPC.md "Capability").
- Intervals at `confidence` (default 95 %), n the number of readings: Cp, Pp by χ² with
  ν = n − 1 (Montgomery eq. 8.19); Cpk, Cpu, Cpl, Ppk by Bissell (1990; Montgomery
  eq. 8.21): Ĉ ∓ z_{α/2}·√(1/(9n) + Ĉ²/(2(n − 1))); Cpm by χ² with Boyles's (1991)
  ν = n(1 + V²)²/(1 + 2V²) (NIST §6.1.6).
- Out of spec: observed (readings below LSL / above USL), expected under the normal model
  Φ((LSL − x̄)/σ) + 1 − Φ((USL − x̄)/σ), in ppm, with σ_overall and with σ_within.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from statistics import NormalDist, stdev

from oee.spc.constants import c4, constants
from oee.spc.distributions import chi2_quantile
from oee.spc.types import VARIABLES, Capability, ChartKind, Spec, Subgroup

__all__ = ["Moments", "capability", "capability_from", "capability_of"]

_NORMAL = NormalDist()


class Moments:
    """Running sums of a variables chart's readings for capability (O(1) per subgroup):
    count, mean and M2 (Welford), min, max, the within-subgroup σ estimates (Rᵢ/d2, sᵢ/c4
    or moving ranges), and the readings outside `spec`. Mergeable (Chan et al. 1979)."""

    __slots__ = (
        "kind", "spec", "n", "mean", "m2", "min", "max", "subgroups", "within_sum",
        "within_count", "last", "below", "above",
    )  # fmt: skip

    def __init__(self, kind: ChartKind, spec: Spec | None = None) -> None:
        if kind not in VARIABLES:
            raise ValueError(
                f"capability is for variables charts (imr, xbar_r, xbar_s), not {kind}"
            )
        self.kind, self.spec = kind, spec or Spec()
        self.n, self.mean, self.m2 = 0, 0.0, 0.0
        self.min, self.max = math.inf, -math.inf
        self.subgroups, self.within_sum, self.within_count = 0, 0.0, 0
        self.last: float | None = None  # I-MR: the previous reading
        self.below = self.above = 0

    def add(self, subgroup: Subgroup) -> None:
        """Add one subgroup's readings."""
        values = subgroup.values
        if not values or not all(math.isfinite(v) for v in values):
            raise ValueError(f"capability needs finite readings, got {values}")
        for v in values:
            self.n += 1
            delta = v - self.mean
            self.mean += delta / self.n
            self.m2 += delta * (v - self.mean)
            self.min, self.max = min(self.min, v), max(self.max, v)
            self.below += self.spec.lsl is not None and v < self.spec.lsl
            self.above += self.spec.usl is not None and v > self.spec.usl
        self.subgroups += 1
        self._within(values)

    def _within(self, values: tuple[float, ...]) -> None:
        m = len(values)
        if self.kind == "imr":
            if self.last is not None:
                self.within_sum += abs(values[-1] - self.last)
                self.within_count += 1
            self.last = values[-1]
        elif 2 <= m <= 25 and self.kind == "xbar_r":
            self.within_sum += (max(values) - min(values)) / constants(m).d2
            self.within_count += 1
        elif m >= 2 and self.kind == "xbar_s":
            self.within_sum += stdev(values) / c4(m)
            self.within_count += 1

    def merge(self, other: Moments) -> None:
        """Add `other`'s sums (a later window of the same chart) to these. For I-MR the
        moving range across the join is not counted."""
        if other.kind != self.kind:
            raise ValueError(f"cannot merge {other.kind} moments into {self.kind}")
        n = self.n + other.n
        if other.n:
            delta = other.mean - self.mean
            self.m2 += other.m2 + delta * delta * self.n * other.n / n
            self.mean += delta * other.n / n
        self.n = n
        self.min, self.max = min(self.min, other.min), max(self.max, other.max)
        self.subgroups += other.subgroups
        self.within_sum += other.within_sum
        self.within_count += other.within_count
        self.last = other.last if other.last is not None else self.last
        self.below += other.below
        self.above += other.above

    def sigma_within(self) -> float | None:
        if not self.within_count:
            return None
        mean = self.within_sum / self.within_count
        return mean / constants(2).d2 if self.kind == "imr" else mean

    def sigma_overall(self) -> float | None:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n >= 2 else None


def capability(
    kind: ChartKind, subgroups: Sequence[Subgroup], spec: Spec, confidence: float = 0.95
) -> Capability:
    """Capability of `subgroups` against `spec` (see the module docstring)."""
    moments = Moments(kind, spec)
    for s in subgroups:
        moments.add(s)
    return capability_from(moments, kind, spec, confidence)


def capability_from(
    moments: Moments, kind: ChartKind, spec: Spec, confidence: float = 0.95
) -> Capability:
    """Capability from running sums. The observed counts out of spec are those of the spec
    the `moments` were built with."""
    if moments.kind != kind:
        raise ValueError(f"moments are of a {moments.kind} chart, not {kind}")
    out = capability_of(
        moments.n, moments.mean, moments.sigma_within(), moments.sigma_overall(), spec,
        confidence,
    )  # fmt: skip
    n = moments.n
    return replace(
        out, subgroups=moments.subgroups, below_lsl=moments.below, above_usl=moments.above,
        observed_ppm=(moments.below + moments.above) / n * 1e6 if n else 0.0,
    )  # fmt: skip


def capability_of(
    n: int,
    mean: float,
    sigma_within: float | None,
    sigma_overall: float | None,
    spec: Spec,
    confidence: float = 0.95,
) -> Capability:
    """Capability from summary statistics: `n` readings with mean `mean`, the within σ̂
    (of the chart) and the overall sample standard deviation (n − 1) — the form in which
    textbooks state their examples. No observed counts (they need the readings)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if spec.lsl is not None and spec.usl is not None and spec.lsl >= spec.usl:
        raise ValueError(f"spec lsl {spec.lsl} must be below usl {spec.usl}")
    alpha = 1 - confidence
    cp, cpu, cpl, cpk = _indices(mean, sigma_within, spec)
    pp, ppu, ppl, ppk = _indices(mean, sigma_overall, spec)
    cpm = _cpm(mean, sigma_overall, spec)
    ci = _intervals(
        n, alpha, {"cp": cp, "pp": pp}, {"cpk": cpk, "cpu": cpu, "cpl": cpl, "ppk": ppk}
    )
    if cpm is not None and n >= 2 and sigma_overall:
        ci["cpm"] = _chi2_interval(cpm, _boyles_df(n, mean, sigma_overall, spec), alpha)
    return Capability(
        n=n, subgroups=0, mean=mean, sigma_within=sigma_within, sigma_overall=sigma_overall,
        cp=cp, cpk=cpk, cpu=cpu, cpl=cpl, pp=pp, ppk=ppk, cpm=cpm, ci=ci,
        expected_ppm=_expected_ppm(mean, sigma_overall, spec),
        expected_within_ppm=_expected_ppm(mean, sigma_within, spec),
    )  # fmt: skip


def _indices(mean: float, sigma: float | None, spec: Spec) -> tuple[float | None, ...]:
    """(C, Cu, Cl, Ck) for one σ: the Cp or Pp family."""
    if not sigma or sigma <= 0:
        return None, None, None, None
    lsl, usl = spec.lsl, spec.usl
    c = (usl - lsl) / (6 * sigma) if lsl is not None and usl is not None else None
    cu = (usl - mean) / (3 * sigma) if usl is not None else None
    cl = (mean - lsl) / (3 * sigma) if lsl is not None else None
    ck = min((x for x in (cu, cl) if x is not None), default=None)
    return c, cu, cl, ck


def _cpm(mean: float, sigma: float | None, spec: Spec) -> float | None:
    """Cpm = (USL − LSL)/(6·√(s² + (x̄ − T)²)) = Cp/√(1 + V²), V = (x̄ − T)/s (Chan, Cheng
    and Spiring 1988; Montgomery §8.3.4; NIST §6.1.6): about the target, with the overall s."""
    if spec.lsl is None or spec.usl is None or spec.target is None or not sigma:
        return None
    return (spec.usl - spec.lsl) / (6 * math.sqrt(sigma * sigma + (mean - spec.target) ** 2))


def _boyles_df(n: int, mean: float, sigma: float, spec: Spec) -> float:
    """ν = n(1 + V²)²/(1 + 2V²), V = (x̄ − T)/s: Boyles (1991), NIST §6.1.6."""
    v2 = ((mean - spec.target) / sigma) ** 2  # type: ignore[operator]
    return n * (1 + v2) ** 2 / (1 + 2 * v2)


def _chi2_interval(value: float, df: float, alpha: float) -> tuple[float, float]:
    """value·√(χ²_{α/2,ν}/ν) .. value·√(χ²_{1−α/2,ν}/ν), lower-tail quantiles
    (Montgomery eq. 8.19 with ν = n − 1; Boyles's ν for Cpm)."""
    lo, hi = (chi2_quantile(q, df) for q in (alpha / 2, 1 - alpha / 2))
    return value * math.sqrt(lo / df), value * math.sqrt(hi / df)


def _bissell(value: float, n: float, alpha: float) -> tuple[float, float]:
    """Ĉ ∓ z_{α/2}·√(1/(9n) + Ĉ²/(2(n − 1))) (Bissell 1990; Montgomery eq. 8.21 multiplied
    out, so that it also holds for Ĉ ≤ 0). Here `n` is the number of readings."""
    z = _NORMAL.inv_cdf(1 - alpha / 2)
    half = z * math.sqrt(1 / (9 * n) + value * value / (2 * (n - 1)))
    return value - half, value + half


def _intervals(
    n: int, alpha: float, chi2: dict[str, float | None], bissell: dict[str, float | None]
) -> dict[str, tuple[float, float]]:
    """The χ² intervals (Cp, Pp: ν = n − 1) and Bissell's (Cpk, Cpu, Cpl, Ppk)."""
    if n < 2:
        return {}
    out = {k: _chi2_interval(v, n - 1, alpha) for k, v in chi2.items() if v is not None}
    return out | {k: _bissell(v, n, alpha) for k, v in bissell.items() if v is not None}


def _expected_ppm(mean: float, sigma: float | None, spec: Spec) -> float | None:
    if not sigma or sigma <= 0 or (spec.lsl is None and spec.usl is None):
        return None
    below = _NORMAL.cdf((spec.lsl - mean) / sigma) if spec.lsl is not None else 0.0
    above = 1 - _NORMAL.cdf((spec.usl - mean) / sigma) if spec.usl is not None else 0.0
    return (below + above) * 1e6
