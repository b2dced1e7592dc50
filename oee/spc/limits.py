"""Phase I control limits and points judged against them, for the seven chart kinds.

Formulas (Montgomery, Introduction to Statistical Quality Control, 7th ed., ch. 6–7;
NIST/SEMATECH e-Handbook §6.3.2–6.3.3), all 3-sigma:
- I-MR: x̄ ± 3·MR̄/d2(2); MR chart 0 .. D4(2)·MR̄ (moving ranges of span 2).
- X̄-R: X̄̄ ± A2·R̄; R chart D3·R̄ .. D4·R̄. Unequal subgroup sizes: σ̂ = mean of
  Rᵢ/d2(nᵢ) (ASTM E2587 §8; qcc "UWAVE-R"), each point's limits at its own n.
- X̄-S: X̄̄ ± A3·S̄; S chart B3·S̄ .. B4·S̄. Unequal sizes (Montgomery §6.3.2, eqs. 6.30
  and 6.31): X̄̄ = Σnᵢx̄ᵢ/Σnᵢ, S̄ = √(Σ(nᵢ−1)sᵢ²/(Σnᵢ − m)), point i at A3(nᵢ), B3(nᵢ),
  B4(nᵢ).
- p: p̄ = Σd/Σn, p̄ ± 3√(p̄(1−p̄)/nᵢ) per point; np: n·p̄ ± 3√(n·p̄(1−p̄)), constant n;
  c: c̄ ± 3√c̄, constant inspection size; u: ū = Σc/Σn, ū ± 3√(ū/nᵢ). LCLs below 0 are 0.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import replace
from statistics import fmean, stdev

from oee.spc.constants import c4, constants
from oee.spc.types import ATTRIBUTES, ChartKind, Limits, Point, Subgroup

__all__ = ["compute_limits", "judge", "limits_at", "spread_limits_at"]

_KINDS = ("imr", "xbar_r", "xbar_s", "p", "np", "c", "u")
_EDGE = 9  # z is rounded to 9 decimals so that a point exactly on a zone edge is on it


def _check_kind(kind: str) -> None:
    if kind not in _KINDS:
        raise ValueError(f"unknown chart kind {kind!r}; known: {', '.join(_KINDS)}")


def _finite(values: Sequence[float], where: str) -> None:
    for v in values:
        if not math.isfinite(v):
            raise ValueError(f"{where} has a non-finite value ({v}); hold it out before")


def _kept(subgroups: Sequence[Subgroup], exclude: Collection[int]) -> list[int]:
    bad = sorted(i for i in exclude if not 0 <= i < len(subgroups))
    if bad:
        raise ValueError(f"exclude indexes {bad} are outside the {len(subgroups)} subgroups")
    return [i for i in range(len(subgroups)) if i not in exclude]


def compute_limits(
    kind: ChartKind, subgroups: Sequence[Subgroup], exclude: Collection[int] = ()
) -> Limits:
    """Phase I limits of a `kind` chart from the baseline `subgroups`, leaving out the
    indexes in `exclude` (points with an assignable cause) from every sum; for I-MR a
    moving range touching an excluded reading is left out too."""
    _check_kind(kind)
    kept = _kept(subgroups, set(exclude))
    if kind == "imr":
        return _imr(subgroups, kept)
    if kind in ("xbar_r", "xbar_s"):
        return _xbar(kind, [subgroups[i] for i in kept], kept)
    return _attributes(kind, [subgroups[i] for i in kept])


def _single(s: Subgroup, i: int) -> float:
    if len(s.values) != 1:
        raise ValueError(f"imr subgroup {i} must hold one reading, has {len(s.values)}")
    _finite(s.values, f"subgroup {i}")
    return s.values[0]


def _imr(subgroups: Sequence[Subgroup], kept: list[int]) -> Limits:
    xs = {i: _single(subgroups[i], i) for i in kept}
    mrs = [abs(xs[i] - xs[i - 1]) for i in kept if i - 1 in xs]
    if len(xs) < 2 or not mrs:
        raise ValueError(
            "imr limits need at least 2 consecutive readings left after the exclusions "
            f"(one moving range); {len(xs)} readings, {len(mrs)} moving ranges remain"
        )
    k = constants(2)
    center, mr_bar = fmean(xs.values()), fmean(mrs)
    sigma = mr_bar / k.d2
    return Limits(
        kind="imr", center=center, sigma=sigma, n=1, ucl=center + 3 * sigma,
        lcl=center - 3 * sigma, spread_center=mr_bar, spread_ucl=k.D4 * mr_bar,
        spread_lcl=k.D3 * mr_bar, subgroups=len(xs),
    )  # fmt: skip


def _sizes(subgroups: Sequence[Subgroup], kept: list[int]) -> list[int]:
    for s, i in zip(subgroups, kept, strict=True):
        if not 2 <= len(s.values) <= 25:
            raise ValueError(f"subgroup {i} has {len(s.values)} readings; x̄ charts need 2..25")
        _finite(s.values, f"subgroup {i}")
    return [len(s.values) for s in subgroups]


def nominal_size(sizes: Sequence[float]) -> float:
    """The subgroup size the stored limits are for: the most common one (the larger on a
    tie), so a baseline with a few short subgroups keeps the planned size."""
    return max(set(sizes), key=lambda n: (sizes.count(n), n))


def _xbar(kind: ChartKind, subgroups: list[Subgroup], kept: list[int]) -> Limits:
    sizes = _sizes(subgroups, kept)
    if len(subgroups) < 2:
        raise ValueError(
            f"{kind} limits need at least 2 subgroups left after the exclusions, "
            f"got {len(subgroups)}"
        )
    n = int(nominal_size(sizes))
    total = sum(sizes)
    center = sum(fmean(s.values) * m for s, m in zip(subgroups, sizes, strict=True)) / total
    if kind == "xbar_r":
        # UWAVE-R: σ̂ = mean(Rᵢ/d2(nᵢ)); with one size it is R̄/d2.
        sigma = fmean(
            (max(s.values) - min(s.values)) / constants(m).d2
            for s, m in zip(subgroups, sizes, strict=True)
        )
        spread = constants(n).d2 * sigma
        k = constants(n)
        lo, hi = k.D3 * spread, k.D4 * spread
    else:
        spread = _s_bar(subgroups, sizes)
        sigma = spread / c4(n)
        lo, hi = constants(n).B3 * spread, constants(n).B4 * spread
    if len(set(sizes)) == 1:  # the textbook's A2·R̄ and A3·S̄ exactly
        sigma = spread / (constants(n).d2 if kind == "xbar_r" else c4(n))
    half = 3 * sigma / math.sqrt(n)
    return Limits(
        kind=kind, center=center, sigma=sigma, n=n, ucl=center + half, lcl=center - half,
        spread_center=spread, spread_ucl=hi, spread_lcl=lo, subgroups=len(subgroups),
    )  # fmt: skip


def _s_bar(subgroups: list[Subgroup], sizes: list[int]) -> float:
    ss = [stdev(s.values) for s in subgroups]
    if len(set(sizes)) == 1:
        return fmean(ss)  # Montgomery eq. 6.8: S̄ = Σsᵢ/m
    # Montgomery eq. 6.31: pooled over the degrees of freedom.
    pooled = sum((m - 1) * s * s for s, m in zip(ss, sizes, strict=True))
    return math.sqrt(pooled / (sum(sizes) - len(sizes)))


def _attributes(kind: ChartKind, subgroups: list[Subgroup]) -> Limits:
    for i, s in enumerate(subgroups):
        _finite((s.count, s.size), f"attribute subgroup {i}")
        if s.count < 0 or s.size < 0:
            raise ValueError(f"attribute subgroup {i} has a negative count or size")
        if kind in ("p", "np") and s.count > s.size:
            raise ValueError(f"{kind} subgroup {i} has {s.count} rejects in {s.size} parts")
    used = [s for s in subgroups if s.size > 0]
    if not used:
        raise ValueError(
            f"{kind} limits need at least 1 subgroup with size > 0 left after the exclusions"
        )
    sizes = [s.size for s in used]
    if kind in ("np", "c") and len(set(sizes)) > 1:
        raise ValueError(
            f"{kind} charts need a constant subgroup size, got {sorted(set(sizes))}; "
            f"use a {'p' if kind == 'np' else 'u'} chart for varying sizes"
        )
    rate = sum(s.count for s in used) / sum(sizes)  # p̄ or ū (per unit of size)
    # p and u with varying sizes: the stored limits are at the average size (Montgomery
    # §7.2.2), each point still gets its own from its n.
    n = sizes[0] if kind in ("np", "c") else fmean(sizes)
    center = rate * n if kind in ("np", "c") else rate
    base = Limits(
        kind=kind, center=center, sigma=0, n=n, ucl=center, lcl=center, subgroups=len(used)
    )  # type: ignore[arg-type]
    lcl, ucl, _ = _at(base, n)
    return replace(base, ucl=ucl, lcl=lcl)


def _sigma_one(limits: Limits, n: float) -> float:
    """σ̂ of one reading for points of size n (variables)."""
    if limits.kind == "xbar_s" and limits.spread_center is not None and n >= 2:
        return limits.spread_center / c4(int(n))  # Montgomery §6.3.2: A3(nᵢ)·S̄
    if limits.sigma > 0:
        return limits.sigma
    # Limits set by hand without σ: read it off the limits at their own n.
    return (limits.ucl - limits.lcl) / 6 * (math.sqrt(limits.n) if limits.kind != "imr" else 1)


def _sigma_stat(limits: Limits, n: float) -> float:
    """σ of the plotted statistic for a point of size n."""
    kind, center = limits.kind, limits.center
    if kind == "imr":
        return _sigma_one(limits, n)
    if kind in ("xbar_r", "xbar_s"):
        return _sigma_one(limits, n) / math.sqrt(n)
    if kind == "p":
        return math.sqrt(max(center * (1 - center), 0.0) / n)
    if kind == "np":
        p = center / limits.n
        return math.sqrt(max(n * p * (1 - p), 0.0))
    if kind == "c":
        return math.sqrt(max(center, 0.0))
    return math.sqrt(max(center, 0.0) / n)  # u


def _at(limits: Limits, n: float) -> tuple[float, float, float]:
    s = _sigma_stat(limits, n)
    lcl = limits.center - 3 * s
    return (max(0.0, lcl) if limits.kind in ATTRIBUTES else lcl), limits.center + 3 * s, s


def limits_at(limits: Limits, n: float) -> tuple[float, float, float]:
    """(lcl, ucl, σ of the plotted statistic) for a point of subgroup size `n`: the stored
    limits at their own n; per point for p and u with varying sizes and for x̄ with a
    subgroup shorter than planned. np and c charts need the size of their limits."""
    if n <= 0 or not math.isfinite(n):
        raise ValueError(f"subgroup size must be > 0, got {n}")
    if limits.kind in ("np", "c") and n != limits.n:
        raise ValueError(
            f"{limits.kind} limits are for size {limits.n:g}, this subgroup has {n:g}; "
            f"a varying size needs a {'p' if limits.kind == 'np' else 'u'} chart"
        )
    if n == limits.n:
        return limits.lcl, limits.ucl, _sigma_stat(limits, n)
    return _at(limits, n)


def spread_limits_at(limits: Limits, n: float) -> tuple[float, float, float] | None:
    """(center, lcl, ucl) of the spread chart (MR, R or S) at subgroup size `n`; None for
    attributes and for subgroups of one reading on X̄ charts."""
    kind = limits.kind
    if kind in ATTRIBUTES or (kind != "imr" and n < 2):
        return None
    stored = (limits.spread_center, limits.spread_lcl, limits.spread_ucl)
    if (kind == "imr" or n == limits.n) and None not in stored:
        return stored  # type: ignore[return-value]
    m = 2 if kind == "imr" else int(n)
    k = constants(m)
    if kind == "xbar_s":
        s_bar = (
            limits.spread_center
            if limits.spread_center is not None
            else k.c4 * _sigma_one(limits, m)
        )
        return s_bar, k.B3 * s_bar, k.B4 * s_bar
    r_bar = k.d2 * _sigma_one(limits, m)
    return r_bar, k.D3 * r_bar, k.D4 * r_bar


def _statistic(
    kind: str, s: Subgroup, previous: Subgroup | None
) -> tuple[float, float | None, float]:
    """(value, spread, n) of one subgroup."""
    if kind in ATTRIBUTES:
        _finite((s.count, s.size), "subgroup")
        if s.size <= 0 or s.count < 0:
            raise ValueError(
                f"{kind} subgroup needs size > 0 and count >= 0, got {s.count}/{s.size}"
            )
        return (s.count / s.size if kind in ("p", "u") else s.count), None, s.size
    _finite(s.values, "subgroup")
    if not s.values:
        raise ValueError(f"{kind} subgroup has no readings")
    if kind == "imr":
        if len(s.values) != 1:
            raise ValueError(f"imr subgroup must hold one reading, has {len(s.values)}")
        prev = previous.values[0] if previous is not None and previous.values else None
        prev = prev if prev is not None and math.isfinite(prev) else None  # held-out reading
        return s.values[0], (None if prev is None else abs(s.values[0] - prev)), 1
    n = len(s.values)
    if n < 2:
        return s.values[0], None, 1
    spread = max(s.values) - min(s.values) if kind == "xbar_r" else stdev(s.values)
    return fmean(s.values), spread, n


def _zone(value: float, z: float, lcl: float, ucl: float, center: float) -> str:
    if value > ucl or value < lcl:
        return "beyond+" if value > center else "beyond-"
    side = (
        "-" if z < 0 else "+"
    )  # on the centre line: "C+" (the rules go by z, where 0 breaks runs)
    a = abs(z)
    return ("C" if a <= 1 else "B" if a <= 2 else "A") + side


def judge(
    kind: ChartKind, subgroup: Subgroup, limits: Limits, previous: Subgroup | None = None
) -> Point:
    """`subgroup` as a point on a `kind` chart with `limits` (O(1)). I-MR needs the
    `previous` reading for its moving range. Zones: C within 1σ of the plotted statistic,
    B 1–2σ, A 2–3σ (a point exactly on an edge is in the inner zone), beyond: outside the
    control limits (strictly)."""
    _check_kind(kind)
    if limits.kind != kind:
        raise ValueError(f"limits are for a {limits.kind} chart, not {kind}")
    value, spread, n = _statistic(kind, subgroup, previous)
    lcl, ucl, s = limits_at(limits, n)
    z = round((value - limits.center) / s, _EDGE) if s > 0 else 0.0
    beyond = False
    if spread is not None:
        sl = spread_limits_at(limits, 2 if kind == "imr" else n)
        beyond = sl is not None and (spread > sl[2] or spread < sl[1])
    return Point(
        ts=subgroup.ts, value=value, spread=spread, n=n, center=limits.center, ucl=ucl, lcl=lcl,
        z=z, zone=_zone(value, z, lcl, ucl, limits.center), spread_beyond=beyond,
    )  # fmt: skip
