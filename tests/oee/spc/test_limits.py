"""Phase I limits and judged points against published worked examples (qcc vignette "A
quick tour of qcc", qcc 3.0, on Montgomery's datasets: see datasets.py), plus hand-computed
cases (variable subgroup sizes, exclusions, zone edges)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from oee.spc import Limits, Subgroup, compute_limits, constants, judge, limits_at
from oee.spc.limits import spread_limits_at
from tests.oee.spc.datasets import (
    CIRCUIT,
    DYEDCLOTH,
    ORANGEJUICE,
    PCMANUFACT,
    PISTONRINGS,
    VISCOSITY,
)

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def ts(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


def variables(rows: list[tuple[float, ...]]) -> list[Subgroup]:
    return [Subgroup(ts=ts(i), values=tuple(r)) for i, r in enumerate(rows)]


def attributes(counts: list[int], size: float) -> list[Subgroup]:
    return [Subgroup(ts=ts(i), count=c, size=size) for i, c in enumerate(counts)]


def test_xbar_r_pistonrings() -> None:
    # qcc vignette, "x-bar chart" and "R chart": center 74.00118, std dev 0.009785039,
    # LCL 73.98805, UCL 74.0143; R chart center 0.02276, LCL 0, UCL 0.04812533.
    # Montgomery (Example 6.1): X̄̄ = 74.001, R̄ = 0.023, limits 73.988 and 74.014.
    # qcc (and the printed tables) divide by d2 = 2.326; we by 2.325929 (Harter).
    lim = compute_limits("xbar_r", variables(PISTONRINGS[:25]))
    assert lim.center == pytest.approx(74.00118, abs=5e-6)
    assert lim.sigma == pytest.approx(0.009785039 * 2.326 / 2.325929, abs=5e-10)
    assert (lim.lcl, lim.ucl) == (
        pytest.approx(73.98805, abs=5e-6),
        pytest.approx(74.0143, abs=5e-5),
    )
    assert lim.spread_center == pytest.approx(0.02276, abs=1e-12)
    # qcc: R̄ + 3·d3·R̄/2.326; D4·R̄ with d2 = 2.325929 differs by 7e-7.
    assert lim.spread_ucl == pytest.approx(0.04812533, abs=1e-6)
    assert lim.spread_lcl == 0
    assert (lim.n, lim.subgroups, lim.kind, lim.source) == (5, 25, "xbar_r", "computed")
    # Textbook form: X̄̄ ± A2·R̄.
    assert lim.ucl == pytest.approx(lim.center + constants(5).A2 * 0.02276, abs=1e-12)


def test_xbar_r_phase_two_points_beyond() -> None:
    # Montgomery Example 6.1, Phase II (samples 26-40 against the frozen trial limits): the
    # means of samples 37, 38 and 39 (74.0166, 74.0196, 74.0234, hand-computed from the
    # data) are above UCL 74.0143; the others are inside.
    lim = compute_limits("xbar_r", variables(PISTONRINGS[:25]))
    points = [judge("xbar_r", s, lim) for s in variables(PISTONRINGS[25:])]
    beyond = [26 + i for i, p in enumerate(points) if p.zone.startswith("beyond")]
    assert beyond == [37, 38, 39]
    assert points[37 - 26].value == pytest.approx(74.0166, abs=1e-9)
    assert points[37 - 26].zone == "beyond+"
    assert not any(p.spread_beyond for p in points)


def test_xbar_s_pistonrings() -> None:
    # qcc vignette "S chart": center 0.009240037, std dev 0.009829977, UCL 0.01930242.
    lim = compute_limits("xbar_s", variables(PISTONRINGS[:25]))
    assert lim.spread_center == pytest.approx(0.009240037, abs=5e-10)
    assert lim.sigma == pytest.approx(0.009829977, abs=5e-10)
    assert lim.spread_ucl == pytest.approx(0.01930242, abs=5e-9)
    assert lim.spread_lcl == 0
    # X̄̄ ± A3·S̄ = 74.00118 ± 1.427·0.00924 (Montgomery Example 6.3: 73.988, 74.014).
    assert lim.ucl == pytest.approx(lim.center + constants(5).A3 * lim.spread_center, abs=1e-12)
    assert (round(lim.lcl, 3), round(lim.ucl, 3)) == (73.988, 74.014)


def test_xbar_s_variable_sizes_montgomery_weighted() -> None:
    # Montgomery §6.3.2 (eqs. 6.30, 6.31), hand-computed: (1, 2, 3): x̄ 2, s 1;
    # (2, 4, 6, 8): x̄ 5, s² 20/3. X̄̄ = (3·2 + 4·5)/7 = 26/7;
    # S̄ = √((2·1 + 3·20/3)/(7 − 2)) = √4.4. Point i: X̄̄ ± A3(nᵢ)·S̄, B3(nᵢ)·S̄..B4(nᵢ)·S̄.
    lim = compute_limits("xbar_s", variables([(1, 2, 3), (2, 4, 6, 8)]))
    s_bar = math.sqrt(4.4)
    assert lim.center == pytest.approx(26 / 7, abs=1e-12)
    assert lim.spread_center == pytest.approx(s_bar, abs=1e-12)
    assert lim.n == 4  # the most common size; a tie goes to the larger
    for n in (3, 4):
        lcl, ucl, s = limits_at(lim, n)
        c4 = math.sqrt(math.pi) / 2 if n == 3 else 0.9213177319235613
        assert s == pytest.approx(s_bar / (c4 * math.sqrt(n)), rel=1e-9)
        assert ucl == pytest.approx(26 / 7 + constants(n).A3 * s_bar, rel=1e-12)
        assert lcl == pytest.approx(26 / 7 - constants(n).A3 * s_bar, rel=1e-12)
        center, lo, hi = spread_limits_at(lim, n)  # type: ignore[misc]
        assert (center, lo, hi) == pytest.approx((s_bar, 0, constants(n).B4 * s_bar))


def test_xbar_r_variable_sizes_uwave() -> None:
    # ASTM E2587 / qcc "UWAVE-R", hand-computed: ranges 2 (n 3) and 6 (n 4):
    # σ̂ = (2/1.692569 + 6/2.058751)/2; each point at X̄̄ ± 3σ̂/√nᵢ.
    lim = compute_limits("xbar_r", variables([(1, 2, 3), (2, 4, 6, 8)]))
    sigma = (2 / 1.692569 + 6 / 2.058751) / 2
    assert lim.sigma == pytest.approx(sigma, rel=1e-12)
    lcl, ucl, s = limits_at(lim, 3)
    assert (lcl, ucl) == pytest.approx(
        (26 / 7 - 3 * sigma / math.sqrt(3), 26 / 7 + 3 * sigma / math.sqrt(3))
    )
    assert spread_limits_at(lim, 3) == pytest.approx(
        (1.692569 * sigma, 0, constants(3).D4 * 1.692569 * sigma)
    )


def test_imr_viscosity() -> None:
    # qcc vignette "Continuous one-at-time data": center 34.088, std dev 0.5076521,
    # LCL 32.56504, UCL 35.61096 (MR̄/d2 with moving ranges of span 2). qcc divides by
    # d2 = 1.128 (as Montgomery), we by 2/√π = 1.128379, so σ̂ is 1.128/1.128379 of qcc's.
    lim = compute_limits("imr", variables([(v,) for v in VISCOSITY[:20]]))
    assert lim.center == pytest.approx(34.088, abs=1e-9)
    sigma = 0.5076521 * 1.128 / 1.128379
    assert lim.sigma == pytest.approx(sigma, abs=5e-7)
    assert lim.lcl == pytest.approx(34.088 - 3 * sigma, abs=2e-6)
    assert lim.ucl == pytest.approx(34.088 + 3 * sigma, abs=2e-6)
    # Montgomery's figures to his 2 decimals: 32.57 .. 35.61.
    assert (round(lim.lcl, 2), round(lim.ucl, 2)) == (32.57, 35.61)
    # MR chart: 0 .. D4(2)·MR̄ = 3.267·MR̄ (MR̄ = σ̂·d2(2)).
    mr_bar = sum(abs(a - b) for a, b in zip(VISCOSITY[1:20], VISCOSITY[:19], strict=True)) / 19
    assert lim.spread_center == pytest.approx(mr_bar, abs=1e-12)
    assert lim.spread_ucl == pytest.approx(3.2665 * mr_bar, rel=1e-4)
    assert (lim.spread_lcl, lim.n, lim.subgroups) == (0, 1, 20)


def test_imr_exclusion_drops_the_moving_ranges_touching_it() -> None:
    # Batch 4 has an assignable cause (qcc vignette; Montgomery). Excluded: reading 4 and
    # the moving ranges 3-4 and 4-5 (17 ranges left of 19). Hand-computed from the data.
    rows = variables([(v,) for v in VISCOSITY[:20]])
    lim = compute_limits("imr", rows, exclude=[3])
    kept = VISCOSITY[:3] + VISCOSITY[4:20]
    mrs = [abs(VISCOSITY[i] - VISCOSITY[i - 1]) for i in range(1, 20) if i not in (3, 4)]
    assert len(mrs) == 17
    assert lim.center == pytest.approx(sum(kept) / 19, abs=1e-12)
    assert lim.center == pytest.approx(33.98947, abs=5e-6)  # qcc's centre without batch 4
    assert lim.spread_center == pytest.approx(sum(mrs) / 17, abs=1e-12)
    assert lim.sigma == pytest.approx(sum(mrs) / 17 / constants(2).d2, abs=1e-12)
    assert lim.subgroups == 19


def test_p_orangejuice_with_and_without_the_assignable_causes() -> None:
    # qcc vignette "p and np charts": p̄ = 0.2313333, LCL 0.05242755, UCL 0.4102391; with
    # samples 15 and 23 excluded (assignable causes): p̄ = 0.215, 0.04070284 .. 0.3892972.
    # Montgomery Example 7.1: 0.2313, 0.0524 .. 0.4102; revised 0.2150, 0.0407 .. 0.3893.
    # NIST/SEMATECH e-Handbook §6.3.3.2 (p chart example, pmc332.htm) plots the same 30
    # proportions as wafer misregistrations in 50 chips, average .2313 (the limits it
    # prints were not in reach to check; the data and p̄ are the same).
    trial = attributes(ORANGEJUICE[:30], 50)
    lim = compute_limits("p", trial)
    assert lim.center == pytest.approx(0.2313333, abs=5e-8)
    assert (lim.lcl, lim.ucl) == (
        pytest.approx(0.05242755, abs=5e-9),
        pytest.approx(0.4102391, abs=5e-8),
    )
    assert (lim.n, lim.sigma, lim.spread_center, lim.subgroups) == (50, 0, None, 30)
    revised = compute_limits("p", trial, exclude=[14, 22])
    assert revised.center == pytest.approx(0.215, abs=1e-12)
    assert (revised.lcl, revised.ucl) == (
        pytest.approx(0.04070284, abs=5e-9),
        pytest.approx(0.3892972, abs=5e-8),
    )
    assert revised.subgroups == 28
    # Samples 15 and 23 were beyond the trial UCL (Montgomery).
    beyond = [i + 1 for i, s in enumerate(trial) if judge("p", s, lim).zone == "beyond+"]
    assert beyond == [15, 23]


def test_np_orangejuice() -> None:
    # qcc vignette: center 11.56667, std dev 2.981763, LCL 2.621377, UCL 20.51196.
    lim = compute_limits("np", attributes(ORANGEJUICE[:30], 50))
    assert lim.center == pytest.approx(11.56667, abs=5e-6)
    assert (lim.lcl, lim.ucl) == (
        pytest.approx(2.621377, abs=5e-7),
        pytest.approx(20.51196, abs=5e-6),
    )
    assert limits_at(lim, 50)[2] == pytest.approx(2.981763, abs=5e-7)


def test_c_circuit_with_exclusions() -> None:
    # qcc vignette "c and u charts": c̄ = 19.84615, 6.481447 .. 33.21086; samples 6 and 20
    # excluded: 19.66667, 6.362532 .. 32.9708 (Montgomery Example 7.3: 19.85, 6.48 .. 33.22).
    trial = attributes(CIRCUIT[:26], 100)
    lim = compute_limits("c", trial)
    assert lim.center == pytest.approx(19.84615, abs=5e-6)
    assert (lim.lcl, lim.ucl) == (
        pytest.approx(6.481447, abs=5e-7),
        pytest.approx(33.21086, abs=5e-6),
    )
    revised = compute_limits("c", trial, exclude=[5, 19])
    assert revised.center == pytest.approx(19.66667, abs=5e-6)
    assert (revised.lcl, revised.ucl) == (
        pytest.approx(6.362532, abs=5e-7),
        pytest.approx(32.9708, abs=5e-5),
    )
    assert [i + 1 for i, s in enumerate(trial) if judge("c", s, lim).zone.startswith("beyond")] == [
        6,
        20,
    ]


def test_u_circuit_and_pcmanufact() -> None:
    # qcc vignette: circuit without 6 and 20 as a u chart: ū = 0.1966667,
    # 0.06362532 .. 0.329708; pcmanufact: ū = 1.93, 0.06613305 .. 3.793867 (Montgomery
    # Example 7.4: ū = 1.93, UCL 3.79, LCL 0.07).
    lim = compute_limits("u", attributes(CIRCUIT[:26], 100), exclude=[5, 19])
    assert lim.center == pytest.approx(0.1966667, abs=5e-8)
    assert (lim.lcl, lim.ucl) == (
        pytest.approx(0.06362532, abs=5e-9),
        pytest.approx(0.329708, abs=5e-7),
    )
    lim = compute_limits("u", attributes(PCMANUFACT, 5))
    assert lim.center == pytest.approx(1.93, abs=1e-12)
    assert (lim.lcl, lim.ucl) == (
        pytest.approx(0.06613305, abs=5e-9),
        pytest.approx(3.793867, abs=5e-7),
    )


def test_u_variable_sizes_dyedcloth() -> None:
    # Montgomery (2nd ed., pp. 183-184), u chart with variable sample size: ū = 153/107.5
    # = 1.4233; each roll at ū ± 3√(ū/nᵢ) (hand-computed: n 10: 0.2915 .. 2.5550;
    # n 8: 0.1579 .. 2.6886; n 13: 0.4306 .. 2.4159).
    rows = [Subgroup(ts=ts(i), count=c, size=n) for i, (c, n) in enumerate(DYEDCLOTH)]
    lim = compute_limits("u", rows)
    u = 153 / 107.5
    assert lim.center == pytest.approx(u, abs=1e-12)
    assert lim.n == pytest.approx(10.75)  # the average size (Montgomery §7.2.2)
    for n, lcl, ucl in ((10, 0.2915, 2.5550), (8, 0.1579, 2.6886), (13, 0.4306, 2.4159)):
        got = limits_at(lim, n)
        assert (round(got[0], 4), round(got[1], 4)) == (lcl, ucl)
        assert got[2] == pytest.approx(math.sqrt(u / n))
    points = [judge("u", s, lim) for s in rows]
    assert [round(p.ucl, 4) for p in points[:3]] == [2.5550, 2.6886, 2.4159]
    assert not any(p.zone.startswith("beyond") for p in points)


def test_p_variable_sizes_per_point_limits() -> None:
    # Hand-computed: 10/100 and 30/200 → p̄ = 40/300; n 100: p̄ ± 3√(p̄(1−p̄)/100).
    rows = [Subgroup(ts=ts(0), count=10, size=100), Subgroup(ts=ts(1), count=30, size=200)]
    lim = compute_limits("p", rows)
    p = 40 / 300
    assert lim.center == pytest.approx(p)
    point = judge("p", rows[0], lim)
    half = 3 * math.sqrt(p * (1 - p) / 100)
    assert (point.lcl, point.ucl, point.n) == (
        pytest.approx(p - half),
        pytest.approx(p + half),
        100,
    )
    assert point.z == pytest.approx(round((0.1 - p) / (half / 3), 9))


def test_lcl_is_clamped_at_zero_for_attributes() -> None:
    # c̄ = 4: 4 − 3·2 < 0 → LCL 0 (Montgomery §7.3); a zero count is not "beyond".
    lim = compute_limits("c", attributes([3, 5, 4, 4], 1))
    assert (lim.center, lim.lcl, lim.ucl) == (4, 0, 10)
    point = judge("c", Subgroup(ts=ts(9), count=0, size=1), lim)
    assert (point.zone, point.z) == ("B-", -2.0)


@pytest.mark.parametrize(
    ("kind", "rows", "message"),
    [
        (
            "np",
            [Subgroup(ts=T0, count=1, size=50), Subgroup(ts=T0, count=1, size=60)],
            "constant subgroup size",
        ),
        (
            "c",
            [Subgroup(ts=T0, count=1, size=1), Subgroup(ts=T0, count=1, size=2)],
            "use a u chart",
        ),
        ("p", [Subgroup(ts=T0, count=0, size=0)], "at least 1 subgroup with size > 0"),
        ("p", [Subgroup(ts=T0, count=6, size=5)], "6 rejects in 5 parts"),
        ("xbar_r", [Subgroup(ts=T0, values=(1, 2))], "at least 2 subgroups"),
        ("xbar_s", [Subgroup(ts=T0, values=(1,)), Subgroup(ts=T0, values=(1, 2))], "need 2..25"),
        ("imr", [Subgroup(ts=T0, values=(1,)), Subgroup(ts=T0, values=(math.nan,))], "non-finite"),
        ("imr", [Subgroup(ts=T0, values=(1,))], "at least 2 consecutive readings"),
        ("x", [Subgroup(ts=T0, values=(1,))], "unknown chart kind 'x'"),
    ],
)
def test_bad_baselines_are_refused_with_a_clear_message(
    kind: str, rows: list[Subgroup], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        compute_limits(kind, rows)  # type: ignore[arg-type]


def test_exclusions_that_leave_too_few() -> None:
    rows = variables([(1, 2), (2, 3), (3, 4)])
    with pytest.raises(ValueError, match="at least 2 subgroups left after the exclusions, got 1"):
        compute_limits("xbar_r", rows, exclude=[0, 2])
    with pytest.raises(ValueError, match=r"exclude indexes \[7\] are outside the 3 subgroups"):
        compute_limits("xbar_r", rows, exclude=[7])
    # imr: excluding every other reading leaves no moving range.
    with pytest.raises(ValueError, match="0 moving ranges"):
        compute_limits("imr", variables([(1,), (2,), (3,), (4,)]), exclude=[1, 3])


MANUAL = Limits(kind="imr", center=10, sigma=1, n=1, ucl=13, lcl=7, source="manual")


@pytest.mark.parametrize(
    ("x", "zone", "z"),
    [
        (10, "C+", 0.0),  # on the centre line
        (11, "C+", 1.0),  # exactly 1σ: still C (zones are closed inwards)
        (11.0001, "B+", 1.0001),
        (12, "B+", 2.0),
        (12.5, "A+", 2.5),
        (13, "A+", 3.0),  # on the UCL: not beyond (beyond means strictly outside)
        (13.0001, "beyond+", 3.0001),
        (9.2, "C-", -0.8),
        (8, "B-", -2.0),
        (7, "A-", -3.0),
        (6.9, "beyond-", -3.1),
    ],
)
def test_zones_at_their_edges(x: float, zone: str, z: float) -> None:
    # Hand-set limits: centre 10, σ 1 → z = x − 10.
    point = judge("imr", Subgroup(ts=T0, values=(x,)), MANUAL)
    assert (point.zone, point.z) == (zone, pytest.approx(z, abs=1e-12))


def test_imr_moving_range_needs_the_previous_reading() -> None:
    lim = Limits(
        kind="imr",
        center=10,
        sigma=1,
        n=1,
        ucl=13,
        lcl=7,
        spread_center=1.128,
        spread_ucl=3.685,
        spread_lcl=0,
    )
    first = judge("imr", Subgroup(ts=T0, values=(10.5,)), lim)
    assert (first.spread, first.spread_beyond) == (None, False)
    jump = judge(
        "imr", Subgroup(ts=ts(1), values=(12.2,)), lim, previous=Subgroup(ts=T0, values=(8.4,))
    )
    assert jump.spread == pytest.approx(3.8)
    assert jump.spread_beyond and jump.zone == "A+"


def test_manual_limits_without_sigma_read_it_off_the_limits() -> None:
    # Set by hand for n = 4: centre 100, 97 .. 103 → σ of x̄ = 1, σ̂ = 2; at n = 1 (a short
    # subgroup of one reading): 100 ± 6, no spread point.
    lim = Limits(kind="xbar_r", center=100, sigma=0, n=4, ucl=103, lcl=97, source="manual")
    assert limits_at(lim, 4) == (97, 103, 1.0)
    assert limits_at(lim, 1) == pytest.approx((94, 106, 2))
    point = judge("xbar_r", Subgroup(ts=T0, values=(104,)), lim)
    assert (point.value, point.spread, point.n, point.zone) == (104, None, 1, "B+")
    with pytest.raises(ValueError, match="limits are for a xbar_r chart, not xbar_s"):
        judge("xbar_s", Subgroup(ts=T0, values=(1, 2)), lim)


def test_np_and_c_refuse_another_size_when_judged() -> None:
    lim = compute_limits("np", attributes([5, 6, 7], 50))
    with pytest.raises(
        ValueError,
        match="np limits are for size 50, this subgroup has 40; a varying size needs a p chart",
    ):
        judge("np", Subgroup(ts=T0, count=3, size=40), lim)


def test_a_non_finite_previous_reading_gives_no_moving_range() -> None:
    nan = Subgroup(ts=T0, values=(math.nan,))
    point = judge("imr", Subgroup(ts=ts(1), values=(11.0,)), MANUAL, previous=nan)
    assert (point.spread, point.zone) == (None, "C+")
    with pytest.raises(ValueError, match="non-finite"):
        judge("imr", nan, MANUAL)
