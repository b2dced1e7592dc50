"""The control chart constants against the published table.

Table: Montgomery, Introduction to Statistical Quality Control, Appendix VI "Factors for
constructing variables control charts" (the same figures as ASTM MNL7 and the AIAG SPC
manual, 2nd ed., Appendix; also reproduced e.g. in the CSS Statistica manual "Formula
Constants"). Printed to 3 decimals (c4 to 4).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from oee.spc import constants
from oee.spc.constants import D2_D3, c4

# n: A2, A3, c4, B3, B4, d2, d3, D3, D4 (Montgomery Appendix VI)
TABLE = {
    2: (1.880, 2.659, 0.7979, 0.000, 3.267, 1.128, 0.853, 0.000, 3.267),
    3: (1.023, 1.954, 0.8862, 0.000, 2.568, 1.693, 0.888, 0.000, 2.574),
    4: (0.729, 1.628, 0.9213, 0.000, 2.266, 2.059, 0.880, 0.000, 2.282),
    5: (0.577, 1.427, 0.9400, 0.000, 2.089, 2.326, 0.864, 0.000, 2.114),
    6: (0.483, 1.287, 0.9515, 0.030, 1.970, 2.534, 0.848, 0.000, 2.004),
    7: (0.419, 1.182, 0.9594, 0.118, 1.882, 2.704, 0.833, 0.076, 1.924),
    8: (0.373, 1.099, 0.9650, 0.185, 1.815, 2.847, 0.820, 0.136, 1.864),
    9: (0.337, 1.032, 0.9693, 0.239, 1.761, 2.970, 0.808, 0.184, 1.816),
    10: (0.308, 0.975, 0.9727, 0.284, 1.716, 3.078, 0.797, 0.223, 1.777),
    11: (0.285, 0.927, 0.9754, 0.321, 1.679, 3.173, 0.787, 0.256, 1.744),
    12: (0.266, 0.886, 0.9776, 0.354, 1.646, 3.258, 0.778, 0.283, 1.717),
    13: (0.249, 0.850, 0.9794, 0.382, 1.618, 3.336, 0.770, 0.307, 1.693),
    14: (0.235, 0.817, 0.9810, 0.406, 1.594, 3.407, 0.763, 0.328, 1.672),
    15: (0.223, 0.789, 0.9823, 0.428, 1.572, 3.472, 0.756, 0.347, 1.653),
    16: (0.212, 0.763, 0.9835, 0.448, 1.552, 3.532, 0.750, 0.363, 1.637),
    17: (0.203, 0.739, 0.9845, 0.466, 1.534, 3.588, 0.744, 0.378, 1.622),
    18: (0.194, 0.718, 0.9854, 0.482, 1.518, 3.640, 0.739, 0.391, 1.608),
    19: (0.187, 0.698, 0.9862, 0.497, 1.503, 3.689, 0.734, 0.403, 1.597),
    20: (0.180, 0.680, 0.9869, 0.510, 1.490, 3.735, 0.729, 0.415, 1.585),
    21: (0.173, 0.663, 0.9876, 0.523, 1.477, 3.778, 0.724, 0.425, 1.575),
    22: (0.167, 0.647, 0.9882, 0.534, 1.466, 3.819, 0.720, 0.434, 1.566),
    23: (0.162, 0.633, 0.9887, 0.545, 1.455, 3.858, 0.716, 0.443, 1.557),
    24: (0.157, 0.619, 0.9892, 0.555, 1.445, 3.895, 0.712, 0.451, 1.548),
    25: (0.153, 0.606, 0.9896, 0.565, 1.435, 3.931, 0.708, 0.459, 1.541),
}


@pytest.mark.parametrize("n", sorted(TABLE))
def test_constants_match_the_published_table(n: int) -> None:
    A2, A3, C4, B3, B4, d2, d3, D3, D4 = TABLE[n]
    k = constants(n)
    assert k.n == n
    # Tabulated and exact values round to the printed ones.
    assert round(k.c4, 4) == C4
    assert round(k.d2, 3) == d2
    # d3 at n = 19 is 0.733481; the table prints 0.734, rounding Harter's 4-decimal 0.7335.
    assert abs(k.d3 - d3) <= 0.0005 + (0.0001 if n == 19 else 0), (n, k.d3)
    # Derived values: the printed table derives them from rounded d2, d3, c4, so its last
    # decimal may be one unit off the exact value (e.g. D4 at n = 3: 2.5746 printed 2.574).
    for name, printed in (("A2", A2), ("A3", A3), ("B3", B3), ("B4", B4), ("D3", D3), ("D4", D4)):
        assert abs(getattr(k, name) - printed) <= 0.001 + 1e-9, (n, name, getattr(k, name))


def test_exact_values_at_small_n() -> None:
    # c4(2) = √(2/π), d2(2) = 2/√π (the mean absolute difference of two normals), D4(2) = 3.267.
    assert c4(2) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-12)
    assert constants(2).d2 == pytest.approx(2 / math.sqrt(math.pi), abs=5e-7)
    assert round(constants(2).D4, 3) == 3.267
    assert c4(1001) == pytest.approx(1 - 1 / (4 * 1000), abs=1e-6)  # c4 ≈ 4(n−1)/(4n−3)


@pytest.mark.parametrize("n", [0, 1, 26, -3])
def test_sizes_outside_the_table_are_refused(n: int) -> None:
    with pytest.raises(ValueError, match=r"subgroup sizes 2\.\.25, got"):
        constants(n)


_PHI = NormalDist()


def _simpson(f, lo: float, hi: float, steps: int) -> float:  # type: ignore[no-untyped-def]
    h = (hi - lo) / steps  # steps even
    inner = sum((4 if i % 2 else 2) * f(lo + i * h) for i in range(1, steps))
    return h / 3 * (f(lo) + inner + f(hi))


@pytest.mark.parametrize("n", sorted(D2_D3))
def test_d2_is_the_integral_of_the_range(n: int) -> None:
    # d2 = ∫ 1 − Φ(x)^n − (1 − Φ(x))^n dx (Harter 1960), integrated again here.
    def f(x: float) -> float:
        p = _PHI.cdf(x)
        return 1 - p**n - (1 - p) ** n

    assert _simpson(f, -9, 9, 1800) == pytest.approx(D2_D3[n][0], abs=1e-6)


@pytest.mark.parametrize("n", [2, 7, 25])
def test_d3_is_the_standard_deviation_of_the_range(n: int) -> None:
    # P(W ≤ w) = n ∫ φ(x)[Φ(x+w) − Φ(x)]^(n−1) dx; E[W²] = 2 ∫ w P(W > w) dw.
    xs = [-8 + i * 0.04 for i in range(401)]
    pdf = [_PHI.pdf(x) * 0.04 for x in xs]
    cdf = [_PHI.cdf(x) for x in xs]

    def tail(w: float) -> float:
        inner = sum(
            p * (_PHI.cdf(x + w) - c) ** (n - 1) for x, p, c in zip(xs, pdf, cdf, strict=True)
        )
        return w * (1 - n * inner)

    second = 2 * _simpson(tail, 0, 10, 250)
    d2 = D2_D3[n][0]
    assert math.sqrt(second - d2 * d2) == pytest.approx(D2_D3[n][1], abs=5e-5)
