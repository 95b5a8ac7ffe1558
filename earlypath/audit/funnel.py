"""Funnel plot of a proportion by unit (Spiegelhalter 2005): units against the overall rate,
with 95% and 99.8% control limits (normal approximation to the binomial), as inline SVG."""

from __future__ import annotations

import math
from typing import Any

from earlypath.audit.svg_chart import Chart, nice_ticks

__all__ = ["funnel_limits", "funnel_svg"]

BLUE, RED, GREY = "#1f4e79", "#b30000", "#555555"

Z95 = 1.959963984540054
Z998 = 3.090232306167813


def funnel_limits(p0: float, n: float, z: float) -> tuple[float, float]:
    half = z * math.sqrt(p0 * (1 - p0) / n) if n > 0 else 1.0
    return max(0.0, p0 - half), min(1.0, p0 + half)


def funnel_svg(points: list[dict[str, Any]], overall: float | None, title: str) -> str:
    """An SVG document (text) of the funnel plot; empty string when there is nothing to plot.
    Units outside the 99.8% limits are red and labelled; every point's title gives its figures."""
    if not points or overall is None:
        return ""
    top = max(p["denominator"] for p in points) * 1.1
    chart = Chart(0.0, top)
    grid = [max(1.0, top * i / 200) for i in range(1, 201)]
    for z, dash in ((Z95, "6 4"), (Z998, "2 3")):
        lows, highs = zip(*(funnel_limits(overall, n, z) for n in grid), strict=True)
        chart.line(grid, lows, GREY, dash)
        chart.line(grid, highs, GREY, dash)
    chart.line([0.0, top], [overall, overall], BLUE)
    for p in points:
        low, high = funnel_limits(overall, p["denominator"], Z998)
        outside = not low <= p["rate"] <= high
        chart.point(
            p["denominator"],
            p["rate"],
            RED if outside else BLUE,
            f"{p['group']}: {p['rate']:.1%} ({p['numerator']}/{p['denominator']})"
            + (", outside the 99.8% limits" if outside else ""),
        )
        if outside:
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
        ]
    )
    return chart.svg()
