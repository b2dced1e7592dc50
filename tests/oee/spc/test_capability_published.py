"""Capability indices and their intervals against published worked examples stated as
summary statistics (n, x̄, s), through `capability_of`:
- Montgomery, Introduction to Statistical Quality Control, §8.3.5, the Cp interval example
  (USL 62, LSL 38, n 20, s 1.75; reproduced at
  https://wizedu.com/questions/1595352/in-control-procedure-has-upper-specification-of);
- Quality Digest, May 2000, "The Last Word" (https://www.qualitydigest.com/may00/html/
  lastword.html): Cpk 1.15 from n = 45, 95 % interval 0.89 .. 1.41 (Bissell);
- Montgomery §8.3.4, processes A and B (LSL 35, USL 65, T 50): equal Cpk, different Cpm;
- Boyles (1991) / NIST/SEMATECH §6.1.6 Cpm interval, hand-computed with the NIST
  §1.3.6.7.4 chi-square table at integer ν.
"""

from __future__ import annotations

import math

import pytest

from oee.spc import Spec
from oee.spc.capability import capability_of


def r2(x: float) -> float:
    return round(x, 2)


def test_montgomery_cp_interval() -> None:
    # Ĉp = 24/(6·1.75) = 2.29; 2.29·√(8.91/19) ≤ Cp ≤ 2.29·√(32.85/19): 1.57 ≤ Cp ≤ 3.01.
    # Montgomery multiplies the rounded 2.29; from 2.2857 the lower end is 1.5649, so the
    # printed 1.57 is met to 0.006, the upper 3.01 exactly.
    c = capability_of(20, 50.0, 1.75, 1.75, Spec(38, 62))
    assert r2(c.cp) == 2.29  # type: ignore[arg-type]
    lo, hi = c.ci["cp"]
    assert lo == pytest.approx(1.57, abs=0.006)
    assert r2(hi) == 3.01
    # From the rounded 2.29, as printed: the same factors give 1.57 and 3.01.
    assert (r2(2.29 * lo / c.cp), r2(2.29 * hi / c.cp)) == (1.57, 3.01)  # type: ignore[operator]
    assert c.ci["pp"] == c.ci["cp"]  # one s: the same figures (Minitab: ν = N − 1)


def test_quality_digest_cpk_interval() -> None:
    # Cpk 1.15 (x̄ − LSL = 34.5 = 1.15·3σ with σ = 10), n = 45: 0.89 .. 1.41.
    c = capability_of(45, 34.5, 10.0, 10.0, Spec(0, 100))
    assert c.cpk == pytest.approx(1.15)
    assert c.cpl == c.cpk
    assert tuple(map(r2, c.ci["cpk"])) == (0.89, 1.41)
    assert c.ci["cpl"] == c.ci["cpk"]  # the one-sided index: the same Bissell interval
    assert tuple(map(r2, c.ci["ppk"])) == (0.89, 1.41)


@pytest.mark.parametrize(
    ("mean", "sigma", "cp", "cpk", "cpm"),
    [(50.0, 5.0, 1.0, 1.0, 1.0), (57.5, 2.5, 2.0, 1.0, 0.63)],  # process A, process B
)
def test_montgomery_processes_a_and_b_cpm(
    mean: float, sigma: float, cp: float, cpk: float, cpm: float
) -> None:
    # Cpm = Cp/√(1 + ((μ − T)/σ)²): B is 2/√10 = 0.63 although its Cpk equals A's.
    c = capability_of(100, mean, sigma, sigma, Spec(35, 65, 50))
    assert (r2(c.cp), r2(c.cpk), r2(c.cpm)) == (cp, cpk, cpm)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n", "offset", "chi_lo", "chi_hi", "nu"),
    [
        (30, 0.0, 16.791, 46.979, 30),  # on target: V = 0, ν = n
        (15, 1.0, 9.591, 34.170, 20),  # V = 1: ν = 15·(1 + 1)²/(1 + 2) = 20
    ],
)
def test_cpm_interval_boyles(n: int, offset: float, chi_lo: float, chi_hi: float, nu: int) -> None:
    # Ĉpm·√(χ²_{0.025,ν}/ν) .. Ĉpm·√(χ²_{0.975,ν}/ν), ν = n(1 + V²)²/(1 + 2V²), V = (x̄ −
    # T)/s (Boyles 1991; NIST §6.1.6); χ² from the NIST table (lower-tail 0.025, 0.975).
    c = capability_of(n, 50.0 + offset, 1.0, 1.0, Spec(44, 56, 50))
    assert c.cpm == pytest.approx(2 / math.sqrt(1 + offset**2))
    lo, hi = c.ci["cpm"]
    assert lo == pytest.approx(c.cpm * math.sqrt(chi_lo / nu), abs=5e-5)  # type: ignore[operator]
    assert hi == pytest.approx(c.cpm * math.sqrt(chi_hi / nu), abs=5e-5)  # type: ignore[operator]


def test_cpm_needs_a_target_and_both_limits() -> None:
    assert capability_of(30, 50.0, 1.0, 1.0, Spec(44, 56)).cpm is None
    one_sided = capability_of(30, 50.0, 1.0, 1.0, Spec(usl=56, target=50))
    assert one_sided.cpm is None and "cpm" not in one_sided.ci


def test_intervals_stay_ordered_below_zero_and_need_two_readings() -> None:
    # A mean outside the spec gives Cpk < 0; the interval Ĉ ∓ z√(1/(9n) + Ĉ²/(2(n−1)))
    # keeps lo < hi (the divided form Ĉ(1 ∓ …) would swap them) and exists at Ĉ = 0.
    c = capability_of(50, 57.5, 1.0, 1.0, Spec(44, 56))
    assert c.cpk == pytest.approx(-0.5)
    lo, hi = c.ci["cpk"]
    z = 1.959964
    half = z * math.sqrt(1 / 450 + 0.25 / 98)
    assert (lo, hi) == pytest.approx((-0.5 - half, -0.5 + half), abs=1e-6)
    edge = capability_of(50, 56.0, 1.0, 1.0, Spec(44, 56))
    assert edge.cpk == 0 and edge.ci["cpk"][0] < 0 < edge.ci["cpk"][1]
    assert capability_of(1, 50.0, None, None, Spec(44, 56)).ci == {}
