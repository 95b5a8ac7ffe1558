"""Intervals for a proportion, shared by the audit and the impact model (one definition each).

- `wilson`: the Wilson score interval (Wilson 1927) for x successes out of n.
- `binomial_cdf`: P(X <= r) for X ~ Binomial(n, p), exactly, through the regularised incomplete
  beta function (a continued fraction), so it costs about the same for n = 10 or n = 10 million.
- `binomial_limit`: Spiegelhalter's exact funnel-plot limit for a proportion (Stat Med 2005;
  24:1185, appendix A.1.1; the method of the NHS and PHE funnel-plot guidance): the q-quantile of
  the binomial, interpolated so the limit is a smooth curve in n, divided by n.
"""

from __future__ import annotations

import functools
import math

__all__ = ["Z95", "binomial_cdf", "binomial_limit", "regularised_beta", "wilson"]

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion; None when n is 0."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _beta_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz's method).

    Each step's two terms are written out (not a loop over a tuple of both) and ``abs`` is
    tested as two comparisons: the same operations on the same values, so the same floats, in
    about half the time (an audit's report.html works out some 2,000 of these)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if d > tiny or d < -tiny else tiny)
    h = d
    for m in range(1, 100_000):
        twice = a + 2 * m  # (a + 2 * m - 1) and (a + 2 * m + 1) are twice -1 and +1, as written
        numerator = m * (b - m) * x / ((twice - 1) * twice)
        d = 1.0 + numerator * d
        d = 1.0 / (d if d > tiny or d < -tiny else tiny)
        c = 1.0 + numerator / c
        c = c if c > tiny or c < -tiny else tiny
        h *= d * c
        numerator = -(a + m) * (a + b + m) * x / (twice * (twice + 1))
        d = 1.0 + numerator * d
        d = 1.0 / (d if d > tiny or d < -tiny else tiny)
        c = 1.0 + numerator / c
        c = c if c > tiny or c < -tiny else tiny
        h *= d * c
        if -1e-15 < d * c - 1.0 < 1e-15:
            return h
    raise ArithmeticError(f"incomplete beta did not converge (a={a}, b={b}, x={x})")


def regularised_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # the fraction converges fast on the side of the mean; use the symmetry on the other side
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(x, a, b) / a
    return 1.0 - front * _beta_fraction(1.0 - x, b, a) / b


def binomial_cdf(r: int, n: int, p: float) -> float:
    """P(X <= r) for X ~ Binomial(n, p)."""
    if r < 0:
        return 0.0
    if r >= n:
        return 1.0
    return regularised_beta(1.0 - p, n - r, r + 1)


def binomial_limit(target: float, n: int, q: float) -> float:
    """The q-th funnel limit for a proportion with `target` rate over n units, on the proportion
    scale, clipped to 0..1: r is the smallest count with P(X <= r) >= q, and the limit is
    (r - a) / n with a = (P(X <= r) - q) / (P(X = r)), which joins the steps of the discrete
    quantile into a curve."""
    if n <= 0:
        raise ValueError("n must be at least 1")
    if not 0.0 < q < 1.0:
        raise ValueError("q must be between 0 and 1")
    if target <= 0.0 or target >= 1.0:
        return float(target)  # a rate of 0 or 1 has no spread: the limits are the rate itself
    # start from the normal approximation and step to the exact quantile
    sd = math.sqrt(n * target * (1 - target))
    z = _normal_quantile(q)
    r = min(n, max(0, math.floor(n * target + z * sd)))
    known: dict[int, float] = {}  # each P(X <= k) is worked out once (a funnel needs ~800)

    def cdf(k: int) -> float:
        if k not in known:
            known[k] = binomial_cdf(k, n, target)
        return known[k]

    while r < n and cdf(r) < q:
        r += 1
    while r > 0 and cdf(r - 1) >= q:
        r -= 1
    at_r, below_r = cdf(r), cdf(r - 1)
    a = (at_r - q) / (at_r - below_r)
    return min(1.0, max(0.0, (r - a) / n))


@functools.cache
def _normal_quantile(q: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(q)
