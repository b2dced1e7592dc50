"""Control chart constants for subgroups of n = 2..25 readings.

c4 is exact: c4(n) = √(2/(n−1)) · Γ(n/2) / Γ((n−1)/2), the mean of the sample standard
deviation of n normal readings in units of σ (Montgomery, Introduction to Statistical
Quality Control, Appendix VI; ASTM MNL7).

d2 (the mean range of n normal readings, in σ) and d3 (its standard deviation) have no
closed form; they are tabulated here to six decimals, computed by numerical integration
of the distribution of the range, F_W(w) = n ∫ φ(x) [Φ(x+w) − Φ(x)]^(n−1) dx:
d2 = ∫ (1 − Φ(x)^n − (1 − Φ(x))^n) dx and d3² = 2 ∫ w (1 − F_W(w)) dw − d2². They agree
with Harter (1960), Tables of range and studentized range, Ann. Math. Stat. 31, and with
ASTM MNL7 and Montgomery Appendix VI to every printed decimal (tests/oee/spc/
test_constants.py integrates them again).

The others follow from these (ASTM MNL7; Montgomery §6.2–6.3; 3-sigma limits):
A2 = 3/(d2√n), A3 = 3/(c4√n), B3 = max(0, 1 − 3√(1−c4²)/c4), B4 = 1 + 3√(1−c4²)/c4,
D3 = max(0, 1 − 3·d3/d2), D4 = 1 + 3·d3/d2. Printed tables derive them from rounded d2,
d3 and c4, so their third decimal may differ from these by one unit (Montgomery prints
D4 = 2.574 for n = 3, where 1 + 3·0.888368/1.692569 = 2.5746).
"""

from __future__ import annotations

import math
from functools import cache

from oee.spc.types import Constants

__all__ = ["D2_D3", "c4", "constants"]

# n: (d2, d3), by numerical integration (see the module docstring).
D2_D3: dict[int, tuple[float, float]] = {
    2: (1.128379, 0.852502),
    3: (1.692569, 0.888368),
    4: (2.058751, 0.879808),
    5: (2.325929, 0.864082),
    6: (2.534413, 0.848040),
    7: (2.704357, 0.833205),
    8: (2.847201, 0.819831),
    9: (2.970026, 0.807834),
    10: (3.077505, 0.797051),
    11: (3.172873, 0.787315),
    12: (3.258455, 0.778478),
    13: (3.335980, 0.770416),
    14: (3.406763, 0.763023),
    15: (3.471827, 0.756211),
    16: (3.531983, 0.749908),
    17: (3.587884, 0.744052),
    18: (3.640064, 0.738591),
    19: (3.688963, 0.733481),
    20: (3.734950, 0.728686),
    21: (3.778336, 0.724173),
    22: (3.819385, 0.719915),
    23: (3.858323, 0.715887),
    24: (3.895348, 0.712068),
    25: (3.930629, 0.708441),
}


def c4(n: int) -> float:
    """E[s]/σ for n normal readings (n ≥ 2), exact via the log-gamma function so that
    it also serves large n (the pooled S̄ of a capability study)."""
    if n < 2:
        raise ValueError(f"c4 needs n >= 2, got {n}")
    return math.sqrt(2.0 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


@cache
def constants(n: int) -> Constants:
    """The constants for subgroups of `n` readings, n = 2..25."""
    if n not in D2_D3:
        raise ValueError(f"control chart constants exist for subgroup sizes 2..25, got {n}")
    d2, d3 = D2_D3[n]
    k = c4(n)
    b = 3.0 * math.sqrt(1.0 - k * k) / k
    r = 3.0 * d3 / d2
    return Constants(
        n=n, d2=d2, d3=d3, c4=k,
        A2=3.0 / (d2 * math.sqrt(n)), A3=3.0 / (k * math.sqrt(n)),
        B3=max(0.0, 1.0 - b), B4=1.0 + b, D3=max(0.0, 1.0 - r), D4=1.0 + r,
    )  # fmt: skip
