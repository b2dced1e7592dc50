"""Capability against qcc's published analysis of Montgomery's piston rings (qcc vignette
"Process capability analysis", qcc 3.0: processCapability on samples 1-25 with three spec
limits), the chi-square quantiles against the NIST/SEMATECH table, and running sums."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from statistics import NormalDist, stdev

import pytest

from oee.spc import Spec, Subgroup
from oee.spc.capability import Moments, capability, capability_from
from oee.spc.distributions import chi2_cdf, chi2_quantile
from tests.oee.spc.datasets import PISTONRINGS, VISCOSITY

T0 = datetime(2026, 1, 5, tzinfo=UTC)
RINGS = [Subgroup(ts=T0, values=r) for r in PISTONRINGS[:25]]


def r3(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


@pytest.mark.parametrize(
    ("spec", "cp", "cpl", "cpu", "cpk", "cpm", "cp_ci", "cpk_ci", "below", "above", "exp_pct"),
    [
        # Value / 2.5 % / 97.5 % as printed by qcc (Cp_l, Cp_u: value only; their one-sided
        # intervals are not the textbook's). Exp<LSL / Exp>USL use σ within, in whole %.
        (
            Spec(73.95, 74.05, 74.02),
            1.703,
            1.743,
            1.663,
            1.663,
            0.786,
            (1.491, 1.915),
            (1.448, 1.878),
            0,
            0,
            (0, 0),
        ),
        (
            Spec(73.99, 74.01, 74.0),
            0.341,
            0.381,
            0.301,
            0.301,
            0.338,
            (0.298, 0.383),
            (0.231, 0.370),
            15,
            20,
            (13, 18),
        ),
        (
            Spec(73.99, 74.1, 74.045),
            1.874,
            0.381,
            3.367,
            0.381,
            0.408,
            (1.641, 2.106),
            (0.305, 0.456),
            15,
            0,
            (13, 0),
        ),
    ],
)
def test_pistonrings_capability_as_qcc(
    spec, cp, cpl, cpu, cpk, cpm, cp_ci, cpk_ci, below, above, exp_pct
) -> None:  # type: ignore[no-untyped-def]
    c = capability("xbar_r", RINGS, spec)
    assert (c.n, c.subgroups) == (125, 25)
    assert c.mean == pytest.approx(74.00118, abs=5e-6)
    # qcc's σ is R̄/2.326 = 0.02276/2.326 = 0.009785039; ours R̄/2.325929 (see test_limits).
    assert c.sigma_within == pytest.approx(0.02276 / 2.325929, rel=1e-12)
    # To qcc's 3 decimals; Cpu 3.3664 prints 3.367 in qcc as its σ is 3e-5 smaller (d2).
    got = (c.cp, c.cpl, c.cpu, c.cpk)
    assert got == pytest.approx((cp, cpl, cpu, cpk), abs=0.0007)
    assert [r3(x) for x in got if x is not None and x < 3] == [
        x for x in (cp, cpl, cpu, cpk) if x < 3
    ]
    # qcc's Cpm takes σ within: Cp/√(1 + ((x̄ − T)/σw)²) is qcc's figure; ours takes the
    # overall s (Chan et al. 1988, Montgomery §8.3.4, NIST §6.1.6, Minitab), so it is
    # (USL − LSL)/(6√(s² + (x̄ − T)²)) — docs/SPC.md "Capability".
    sw, s = c.sigma_within, c.sigma_overall
    assert r3(c.cp / math.sqrt(1 + ((c.mean - spec.target) / sw) ** 2)) == cpm  # type: ignore[operator]
    assert c.cpm == pytest.approx(
        (spec.usl - spec.lsl) / (6 * math.sqrt(s * s + (c.mean - spec.target) ** 2)),  # type: ignore[operator]
        rel=1e-12,
    )
    assert tuple(round(x, 3) for x in c.ci["cp"]) == cp_ci
    assert tuple(round(x, 3) for x in c.ci["cpk"]) == cpk_ci
    assert (c.below_lsl, c.above_usl) == (below, above)  # qcc: Obs<LSL 12 %, Obs>USL 16 %
    assert c.observed_ppm == (below + above) / 125 * 1e6
    z = NormalDist()
    lo = z.cdf((spec.lsl - c.mean) / c.sigma_within) * 100  # type: ignore[operator]
    hi = (1 - z.cdf((spec.usl - c.mean) / c.sigma_within)) * 100  # type: ignore[operator]
    assert (round(lo), round(hi)) == exp_pct
    assert c.expected_within_ppm == pytest.approx((lo + hi) * 1e4)


def test_performance_indices_use_the_overall_sigma() -> None:
    # Pp = (USL − LSL)/6s, Ppk = min(USL − x̄, x̄ − LSL)/3s with s the sample standard
    # deviation of all 125 readings (Montgomery §8.3; AIAG SPC manual). Hand-computed.
    flat = [v for r in PISTONRINGS[:25] for v in r]
    s, mean = stdev(flat), sum(flat) / 125
    c = capability("xbar_r", RINGS, Spec(73.95, 74.05))
    assert c.sigma_overall == pytest.approx(s, rel=1e-12)
    assert c.pp == pytest.approx(0.1 / (6 * s), rel=1e-12)
    assert c.ppk == pytest.approx((74.05 - mean) / (3 * s), rel=1e-9)
    # Montgomery §8.3.5, eq. for Cp applied to Pp: Pp·√(χ²(0.025,124)/124) .. with the
    # NIST table's χ² (see test_chi_square_quantiles), and Bissell for Ppk.
    lo, hi = c.ci["pp"]
    assert lo == pytest.approx(c.pp * math.sqrt(chi2_quantile(0.025, 124) / 124))
    half = 1.959964 * math.sqrt(1 / (9 * 125 * c.ppk**2) + 1 / (2 * 124))  # type: ignore[operator]
    assert c.ci["ppk"] == pytest.approx((c.ppk * (1 - half), c.ppk * (1 + half)), rel=1e-6)  # type: ignore[operator]
    assert c.cpm is None  # no target: no Cpm (as Minitab; qcc would use the midpoint)
    z = NormalDist()
    assert c.expected_ppm == pytest.approx(
        (z.cdf((73.95 - mean) / s) + 1 - z.cdf((74.05 - mean) / s)) * 1e6, rel=1e-9
    )


def test_one_sided_and_missing_spec() -> None:
    c = capability("xbar_s", RINGS, Spec(usl=74.05))
    assert (c.cp, c.cpl, c.pp) == (None, None, None)
    assert c.cpk == c.cpu and c.ppk is not None
    assert set(c.ci) == {"cpk", "cpu", "ppk"}
    assert c.ci["cpu"] == c.ci["cpk"]
    none = capability("xbar_s", RINGS, Spec())
    assert (none.cp, none.cpk, none.pp, none.ppk, none.expected_ppm, none.ci) == (
        None,
        None,
        None,
        None,
        None,
        {},
    )
    # X̄-S: σ within = S̄/c4(5) = 0.009829977 (qcc's S chart, same data).
    assert c.sigma_within == pytest.approx(0.009829977, abs=5e-10)


def test_imr_capability_uses_the_moving_range() -> None:
    rows = [Subgroup(ts=T0, values=(v,)) for v in VISCOSITY[:20]]
    c = capability("imr", rows, Spec(32, 36, 34))
    mr_bar = sum(abs(a - b) for a, b in zip(VISCOSITY[1:20], VISCOSITY[:19], strict=True)) / 19
    assert c.sigma_within == pytest.approx(mr_bar / 1.128379, rel=1e-6)
    assert c.cp == pytest.approx(4 / (6 * c.sigma_within), rel=1e-12)  # type: ignore[operator]
    assert (c.n, c.subgroups) == (20, 20)


def test_moments_merge_equals_one_pass_and_refuse_bad_input() -> None:
    whole, a, b = (Moments("xbar_r", Spec(73.99, 74.01)) for _ in range(3))
    for i, s in enumerate(RINGS):
        whole.add(s)
        (a if i < 11 else b).add(s)
    a.merge(b)
    for name in ("n", "subgroups", "within_count", "below", "above", "min", "max"):
        assert getattr(a, name) == getattr(whole, name)
    assert (a.mean, a.m2, a.within_sum) == pytest.approx(
        (whole.mean, whole.m2, whole.within_sum), rel=1e-12
    )
    spec = Spec(73.99, 74.01)
    assert capability_from(a, "xbar_r", spec).cpk == pytest.approx(
        capability_from(whole, "xbar_r", spec).cpk
    )
    with pytest.raises(ValueError, match="finite readings"):
        whole.add(Subgroup(ts=T0, values=(74.0, math.nan)))
    with pytest.raises(ValueError, match="capability is for variables charts"):
        Moments("p")
    with pytest.raises(ValueError, match="spec lsl 2 must be below usl 1"):
        capability_from(whole, "xbar_r", Spec(2, 1))


def test_too_little_data_gives_none_not_an_error() -> None:
    c = capability("imr", [Subgroup(ts=T0, values=(5.0,))], Spec(4, 6))
    assert (c.n, c.sigma_within, c.sigma_overall, c.cp, c.ci) == (1, None, None, None, {})


# NIST/SEMATECH e-Handbook §1.3.6.7.4, critical values of the chi-square distribution
# (lower-tail probability p): (df, p, value).
NIST_CHI2 = [
    (1, 0.975, 5.024), (1, 0.95, 3.841), (2, 0.025, 0.051), (2, 0.975, 7.378),
    (5, 0.025, 0.831), (5, 0.975, 12.833), (10, 0.025, 3.247), (10, 0.05, 3.940),
    (10, 0.95, 18.307), (10, 0.975, 20.483), (20, 0.025, 9.591), (20, 0.975, 34.170),
    (24, 0.025, 12.401), (24, 0.975, 39.364), (30, 0.025, 16.791), (30, 0.975, 46.979),
    (50, 0.025, 32.357), (50, 0.975, 71.420), (100, 0.025, 74.222), (100, 0.975, 129.561),
]  # fmt: skip


@pytest.mark.parametrize(("df", "p", "value"), NIST_CHI2)
def test_chi_square_quantiles(df: int, p: float, value: float) -> None:
    assert round(chi2_quantile(p, df), 3) == value
    assert chi2_cdf(chi2_quantile(p, df), df) == pytest.approx(p, abs=1e-12)
