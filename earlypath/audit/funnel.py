"""Funnel plot of a proportion by unit (Spiegelhalter 2005): units against the overall rate,
with 95% and 99.8% control limits, as inline SVG.

The limits are exact binomial ones (`earlypath.intervals.binomial_limit`), as the NHS and PHE
funnel-plot guidance asks: the normal approximation put the lower 99.8% limit at 0 for small
units and made the limits symmetric where the binomial is skewed.
"""

from __future__ import annotations

import functools
from typing import Any

from earlypath.intervals import binomial_limit
from earlypath.svg_chart import Chart, nice_ticks

__all__ = ["LEVELS", "funnel_grid", "funnel_limits", "funnel_svg", "outside", "work_out_limits"]

BLUE, RED, GREY = "#1f4e79", "#b30000", "#555555"

LEVELS = (0.95, 0.998)  # two-sided coverage of the control limits
FLAGGED_AT = 0.998  # a unit outside these limits is red, labelled and named in the report
METHOD = "exact binomial limits with interpolation (Spiegelhalter, Stat Med 2005;24:1185)"


# Kept by their arguments: a report asks for each site's limits three times (the plot, its
# caption, the first box), and `work_out_limits` works them all out before the report asks
# (an audit needs about 420; the limits are the same floats however often worked out).
@functools.lru_cache(maxsize=4096)
def funnel_limits(p0: float, n: int, coverage: float) -> tuple[float, float]:
    """The (lower, upper) control limits for a unit of n at the overall rate p0."""
    tail = (1 - coverage) / 2
    return binomial_limit(p0, int(n), tail), binomial_limit(p0, int(n), 1 - tail)


def funnel_grid(points: list[dict[str, Any]]) -> tuple[float, list[int]]:
    """The plot's right edge and the units (whole numbers up to it) its limit lines are drawn
    through."""
    top = max(p["denominator"] for p in points) * 1.1
    return top, sorted({max(1, round(top * i / 200)) for i in range(1, 201)})


def work_out_limits(points: list[dict[str, Any]], overall: float | None) -> None:
    """Work out (and keep, `funnel_limits`) every limit the report of this funnel uses: the
    lines' at each level, each unit's 99.8%. Run by a thread of the summary while DuckDB
    counts the missing facts and the rejects' reasons (the limits are two thirds of the
    report's Python: about 1,900 continued fractions)."""
    points = [p for p in points if p.get("denominator")]
    if not points or overall is None:
        return
    _, grid = funnel_grid(points)
    for coverage in LEVELS:
        for n in grid:
            funnel_limits(overall, n, coverage)
    for p in points:
        funnel_limits(overall, p["denominator"], FLAGGED_AT)


def outside(point: dict[str, Any], p0: float | None, coverage: float = FLAGGED_AT) -> bool:
    """Whether a unit's rate falls outside the limits (units with no denominator never do)."""
    if p0 is None or not point.get("denominator"):
        return False
    low, high = funnel_limits(p0, point["denominator"], coverage)
    return not low <= point["rate"] <= high


def funnel_svg(points: list[dict[str, Any]], overall: float | None, title: str) -> str:
    """An SVG document (text) of the funnel plot; empty string when there is nothing to plot.
    Units outside the 99.8% limits are red and labelled; every point's title gives its figures."""
    if not points or overall is None:
        return ""
    top, grid = funnel_grid(points)
    chart = Chart(0.0, top, top=60)  # room above the plot for the legend
    for coverage, dash in zip(LEVELS, ("6 4", "2 3"), strict=True):
        lows, highs = zip(*(funnel_limits(overall, n, coverage) for n in grid), strict=True)
        chart.line(grid, lows, GREY, dash)
        chart.line(grid, highs, GREY, dash)
    chart.line([0.0, top], [overall, overall], BLUE)
    for p in points:
        is_outside = outside(p, overall)
        chart.point(
            p["denominator"],
            p["rate"],
            RED if is_outside else BLUE,
            f"{p['group']}: {p['rate']:.1%} ({p['numerator']}/{p['denominator']})"
            + (", outside the 99.8% limits" if is_outside else ""),
        )
        if is_outside:
            chart.text(p["denominator"], p["rate"], str(p["group"]), size=9)
    chart.axes(
        [(t, f"{t:,.0f}") for t in nice_ticks(0.0, top) if t <= top],
        [(t / 10, f"{t / 10:.1f}") for t in range(0, 11, 2)],
        "eligible episodes with care recorded (denominator)",
        "proportion",
        title,
    )
    chart.legend(
        [
            ("95% limits", GREY, "6 4"),
            ("99.8% limits", GREY, "2 3"),
            (f"overall {overall:.1%}", BLUE, ""),
        ],
        y0=8,
    )
    return chart.svg()
