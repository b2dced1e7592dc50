"""Chi-square quantiles without scipy, for the confidence intervals of capability indices.

The chi-square CDF with ν degrees of freedom is the regularized lower incomplete gamma
function P(ν/2, x/2), evaluated by its power series for x < a + 1 and by Lentz's continued
fraction otherwise (Press et al., Numerical Recipes, 3rd ed., §6.2). The quantile starts
from the Wilson–Hilferty approximation and is refined by bisection to 1e-12 relative.
Checked against the NIST/SEMATECH e-Handbook §1.3.6.7.4 table of critical values.
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["chi2_cdf", "chi2_quantile"]

_EPS = 1e-15


def _gamma_series(a: float, x: float) -> float:
    term = total = 1.0 / a
    ap = a
    for _ in range(10_000):
        ap += 1
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_fraction(a: float, x: float) -> float:
    """Q(a, x) = 1 − P(a, x) by the modified Lentz method."""
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi2_cdf(x: float, df: float) -> float:
    """P(χ²_df ≤ x)."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    if x <= 0:
        return 0.0
    a, h = df / 2, x / 2
    return _gamma_series(a, h) if h < a + 1 else 1 - _gamma_fraction(a, h)


def chi2_quantile(p: float, df: float) -> float:
    """The x with P(χ²_df ≤ x) = p, 0 < p < 1."""
    if not 0 < p < 1:
        raise ValueError(f"probability must be in (0, 1), got {p}")
    z = NormalDist().inv_cdf(p)
    guess = df * max(1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df)), 0.01) ** 3
    lo, hi = 0.0, max(guess, 1.0)
    while chi2_cdf(hi, df) < p:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if chi2_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return (lo + hi) / 2
