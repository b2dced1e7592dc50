"""Process capability over a window of subgroups, from running sums (O(1) per subgroup).

Formulas (Montgomery, Introduction to Statistical Quality Control, 7th ed., §8.3; AIAG SPC
manual, 2nd ed., ch. IV; NIST/SEMATECH e-Handbook §6.1.6):
- σ_within: I-MR MR̄/d2(2); X̄-R mean of Rᵢ/d2(nᵢ) (R̄/d2 for one size); X̄-S mean of
  sᵢ/c4(nᵢ) (S̄/c4) — the same σ̂ as the chart's limits; σ_overall: the sample standard
  deviation of all readings (n − 1), by Welford's running sums.
- Cp = (USL − LSL)/6σw, Cpu = (USL − x̄)/3σw, Cpl = (x̄ − LSL)/3σw, Cpk = min(Cpu, Cpl)
  (the one present with one limit); Pp, Ppk the same with σ_overall.
- Cpm = Cp/√(1 + ((x̄ − T)/σw)²) (Taguchi; Montgomery §8.3.4), only with a target T.
- 95 % intervals (Montgomery §8.3.5): Cp·√(χ²_{α/2,n−1}/(n−1)) .. Cp·√(χ²_{1−α/2,n−1}/(n−1));
  Cpk·(1 ∓ z_{α/2}·√(1/(9n·Cpk²) + 1/(2(n−1)))) (Bissell 1990); Pp, Ppk likewise.
- Out of spec: observed (readings below LSL / above USL), expected under the normal model
  Φ((LSL − x̄)/σ) + 1 − Φ((USL − x̄)/σ), in ppm, with σ_overall and with σ_within.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist, stdev

from oee.spc.constants import c4, constants
from oee.spc.distributions import chi2_quantile
from oee.spc.types import VARIABLES, Capability, ChartKind, Spec, Subgroup

__all__ = ["Moments", "capability", "capability_from"]

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


def _intervals(
    c: float | None, ck: float | None, n: int, confidence: float
) -> list[tuple[float, float] | None]:
    if n < 2:
        return [None, None]
    alpha = 1 - confidence
    out: list[tuple[float, float] | None] = [None, None]
    if c is not None:
        lo, hi = (chi2_quantile(q, n - 1) for q in (alpha / 2, 1 - alpha / 2))
        out[0] = (c * math.sqrt(lo / (n - 1)), c * math.sqrt(hi / (n - 1)))
    if ck is not None and ck != 0:
        z = _NORMAL.inv_cdf(1 - alpha / 2)
        half = z * math.sqrt(1 / (9 * n * ck * ck) + 1 / (2 * (n - 1)))
        out[1] = (ck * (1 - half), ck * (1 + half))
    return out


def _expected_ppm(mean: float, sigma: float | None, spec: Spec) -> float | None:
    if not sigma or sigma <= 0 or (spec.lsl is None and spec.usl is None):
        return None
    below = _NORMAL.cdf((spec.lsl - mean) / sigma) if spec.lsl is not None else 0.0
    above = 1 - _NORMAL.cdf((spec.usl - mean) / sigma) if spec.usl is not None else 0.0
    return (below + above) * 1e6


def capability_from(
    moments: Moments, kind: ChartKind, spec: Spec, confidence: float = 0.95
) -> Capability:
    """Capability from running sums. The observed counts out of spec are those of the spec
    the `moments` were built with."""
    if moments.kind != kind:
        raise ValueError(f"moments are of a {moments.kind} chart, not {kind}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if spec.lsl is not None and spec.usl is not None and spec.lsl >= spec.usl:
        raise ValueError(f"spec lsl {spec.lsl} must be below usl {spec.usl}")
    sw, so, mean, n = moments.sigma_within(), moments.sigma_overall(), moments.mean, moments.n
    cp, cpu, cpl, cpk = _indices(mean, sw, spec)
    pp, _, _, ppk = _indices(mean, so, spec)
    cpm = None
    if cp is not None and spec.target is not None and sw:
        cpm = cp / math.sqrt(1 + ((mean - spec.target) / sw) ** 2)
    ci = {}
    for names, (c, ck) in ((("cp", "cpk"), (cp, cpk)), (("pp", "ppk"), (pp, ppk))):
        for name, interval in zip(names, _intervals(c, ck, n, confidence), strict=True):
            if interval is not None:
                ci[name] = interval
    out = moments.below + moments.above
    return Capability(
        n=n, subgroups=moments.subgroups, mean=mean, sigma_within=sw, sigma_overall=so,
        cp=cp, cpk=cpk, cpu=cpu, cpl=cpl, pp=pp, ppk=ppk, cpm=cpm, ci=ci,
        below_lsl=moments.below, above_usl=moments.above,
        observed_ppm=out / n * 1e6 if n else 0.0,
        expected_ppm=_expected_ppm(mean, so, spec),
        expected_within_ppm=_expected_ppm(mean, sw, spec),
    )  # fmt: skip
