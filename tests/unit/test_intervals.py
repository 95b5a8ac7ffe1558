"""One Wilson interval, an exact binomial CDF, and the exact funnel-plot limits, each checked
against values computed here another way (exact sums of binomial terms in rational arithmetic)."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest

from earlypath.audit import measures
from earlypath.impact import trials
from earlypath.intervals import binomial_cdf, binomial_limit, wilson

TARGETS = (Fraction(1, 20), Fraction(3, 10), Fraction(1, 2), Fraction(4, 5))
TAILS = (0.001, 0.025, 0.975, 0.999)


def exact_cdf(r: int, n: int, p: Fraction) -> Fraction:
    return sum(
        (Fraction(math.comb(n, k)) * p**k * (1 - p) ** (n - k) for k in range(r + 1)),
        Fraction(0),
    )


def exact_cdfs(n: int, p: Fraction) -> list[Fraction]:
    """P(X <= r) for r = 0..n, the values `exact_cdf` gives, by one running sum of whole numbers
    over the common denominator (exact_cdf afresh for each r is quadratic in n)."""
    a, b = p.numerator, p.denominator
    total, out = 0, []
    for k in range(n + 1):
        total += math.comb(n, k) * a**k * (b - a) ** (n - k)
        out.append(Fraction(total, b**n))
    return out


def reference_limit(p: Fraction, n: int, q: float) -> float:
    """Spiegelhalter's limit from first principles: scan for the quantile, then interpolate."""
    q_exact = Fraction(q)
    r = next(r for r in range(n + 1) if exact_cdf(r, n, p) >= q_exact)
    at_r, below_r = exact_cdf(r, n, p), exact_cdf(r - 1, n, p) if r else Fraction(0)
    limit = (r - (at_r - q_exact) / (at_r - below_r)) / n
    return float(min(Fraction(1), max(Fraction(0), limit)))


def test_wilson_matches_published_values() -> None:
    # Newcombe (1998), Stat Med 17:857, table I: 81/263 -> 0.2553 to 0.3662.
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert wilson(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert wilson(10, 10)[1] == pytest.approx(1.0)
    assert wilson(0, 0) is None


def test_there_is_one_wilson_interval() -> None:
    assert measures.wilson is wilson
    assert not hasattr(trials, "wilson_interval")


@pytest.mark.parametrize("n", [1, 2, 7, 20, 137, 500])
@pytest.mark.parametrize("p", TARGETS)
def test_binomial_cdf_matches_exact_sums(n: int, p: Fraction) -> None:
    cdfs = exact_cdfs(n, p)
    if n <= 20:  # the running sum is the plain one
        assert cdfs == [exact_cdf(r, n, p) for r in range(n + 1)]
    for r in range(-1, n + 1):
        exact = cdfs[r] if r >= 0 else Fraction(0)
        assert binomial_cdf(r, n, float(p)) == pytest.approx(float(exact), abs=1e-12)


@pytest.mark.parametrize("q", TAILS)
@pytest.mark.parametrize("p", TARGETS)
def test_funnel_limits_match_the_reference_for_n_1_to_20(p: Fraction, q: float) -> None:
    for n in range(1, 21):
        assert binomial_limit(float(p), n, q) == pytest.approx(
            reference_limit(p, n, q), abs=1e-9
        ), n


@pytest.mark.parametrize("q", TAILS)
@pytest.mark.parametrize("p", [0.02, 0.1, 0.3, 0.5, 0.9])
def test_each_limit_sits_on_the_step_of_the_exact_binomial_quantile(p: float, q: float) -> None:
    """Beyond n = 20: r - 1 <= n x limit <= r, where r is the smallest count with P(X <= r) >= q
    (found here by bisection on the CDF), so a unit is below a lower limit with probability
    under q."""
    for n in [*range(21, 80), 250, 1000, 5000, 40_000]:
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if binomial_cdf(mid, n, p) < q else (lo, mid)
        scaled = binomial_limit(p, n, q) * n
        assert lo - 1 - 1e-9 <= scaled <= lo + 1e-9, n
        if q < 0.5:
            assert binomial_cdf(math.ceil(scaled - 1e-9) - 1, n, p) < q


def test_exact_limits_differ_from_the_normal_approximation_where_it_fails() -> None:
    """For a rare event in a small unit the binomial is skewed: the normal approximation's upper
    99.8% limit (4.1 of 50) is far inside the binomial's 99.9th percentile (5 of 50), and its
    lower limit is symmetric about the rate while the binomial's is not."""
    p, n, z = 0.02, 50, 3.090232306167813
    half = z * math.sqrt(p * (1 - p) / n)
    assert binomial_cdf(4, n, p) < 0.999 <= binomial_cdf(5, n, p)
    assert binomial_limit(p, n, 0.999) - (p + half) > 0.01
    p, n = 0.4, 14  # the normal lower limit is still 0 here; the binomial's is not
    assert p - z * math.sqrt(p * (1 - p) / n) < 0 < binomial_limit(p, n, 0.001)


def test_limits_at_large_n_approach_the_normal_ones() -> None:
    n, p = 1_000_000, 0.3
    half = 3.090232306167813 * math.sqrt(p * (1 - p) / n)
    assert binomial_limit(p, n, 0.999) == pytest.approx(p + half, abs=2e-5)
    assert binomial_limit(p, n, 0.001) == pytest.approx(p - half, abs=2e-5)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="n must be"):
        binomial_limit(0.3, 0, 0.5)
    with pytest.raises(ValueError, match="q must be"):
        binomial_limit(0.3, 10, 1.0)
    assert binomial_limit(0.0, 10, 0.999) == 0.0


def test_funnel_points_are_red_only_outside_the_998_limits() -> None:
    from earlypath.audit.funnel import RED, funnel_svg

    points = [
        {"group": "inside", "numerator": 40, "denominator": 100, "rate": 0.40},
        {"group": "high", "numerator": 80, "denominator": 100, "rate": 0.80},
    ]
    svg = funnel_svg(points, 0.4, "t")
    circles = {
        title: fill
        for fill, title in re.findall(r'<circle [^>]*fill="([^"]+)"><title>([^<:]+):', svg)
    }
    assert circles["high"] == RED and circles["inside"] != RED


def _beta_fraction_as_first_written(x: float, a: float, b: float) -> float:
    """The continued fraction as it was written up to stop 23 (a loop over both terms, ``abs``):
    the reference for the form written out step by step (stop 24, the same operations)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            return h
    raise ArithmeticError("did not converge")


@pytest.mark.parametrize("n", [1, 2, 7, 40, 999, 16_000, 1_000_000])
@pytest.mark.parametrize("p", [1e-9, 0.003, 0.3, 0.5, 0.97])
def test_the_continued_fraction_gives_the_same_floats_as_first_written(n: int, p: float) -> None:
    from earlypath.intervals import _beta_fraction

    for r in sorted({0, 1, n // 3, n // 2, n - 1}):
        if r >= n:
            continue
        x, a, b = 1.0 - p, float(n - r), float(r + 1)
        for args in ((x, a, b), (1.0 - x, b, a)):
            try:
                expected = _beta_fraction_as_first_written(*args)
            except ArithmeticError:
                with pytest.raises(ArithmeticError):
                    _beta_fraction(*args)
                continue
            assert _beta_fraction(*args) == expected, (n, p, r, args)
