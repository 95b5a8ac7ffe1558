"""Funnel plot of a proportion by unit (Spiegelhalter 2005): units against the overall rate,
with 95% and 99.8% control limits (normal approximation to the binomial), as inline SVG."""

from __future__ import annotations

import io
import math
import re
from typing import Any

__all__ = ["clean_svg", "funnel_limits", "funnel_svg"]

Z95 = 1.959963984540054
Z998 = 3.090232306167813


def funnel_limits(p0: float, n: float, z: float) -> tuple[float, float]:
    half = z * math.sqrt(p0 * (1 - p0) / n) if n > 0 else 1.0
    return max(0.0, p0 - half), min(1.0, p0 + half)


def funnel_svg(points: list[dict[str, Any]], overall: float | None, title: str) -> str:
    """An SVG document (text) of the funnel plot; empty string when there is nothing to plot."""
    if not points or overall is None:
        return ""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [p["denominator"] for p in points]
    top = max(ns) * 1.1
    grid = [max(1.0, top * i / 200) for i in range(1, 201)]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    try:
        for z, style, label in ((Z95, "--", "95% limits"), (Z998, ":", "99.8% limits")):
            lows, highs = zip(*(funnel_limits(overall, n, z) for n in grid), strict=True)
            ax.plot(grid, lows, style, color="#555555", linewidth=1, label=label)
            ax.plot(grid, highs, style, color="#555555", linewidth=1)
        ax.axhline(overall, color="#1f4e79", linewidth=1, label=f"overall {overall:.1%}")
        outside = [
            not (
                funnel_limits(overall, p["denominator"], Z998)[0]
                <= p["rate"]
                <= funnel_limits(overall, p["denominator"], Z998)[1]
            )
            for p in points
        ]
        ax.scatter(
            ns,
            [p["rate"] for p in points],
            c=["#b30000" if o else "#1f4e79" for o in outside],
            s=28,
            zorder=3,
        )
        for p, o in zip(points, outside, strict=True):
            if o:
                ax.annotate(
                    p["group"],
                    (p["denominator"], p["rate"]),
                    fontsize=8,
                    xytext=(4, 4),
                    textcoords="offset points",
                )
        ax.set_xlabel("eligible episodes with care recorded (denominator)")
        ax.set_ylabel("proportion")
        ax.set_ylim(0, 1)
        ax.set_xlim(0, top)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    finally:
        plt.close(fig)
    return clean_svg(buffer.getvalue())


def clean_svg(svg: str) -> str:
    """The <svg> element alone, without matplotlib's metadata block (date, creator)."""
    svg = svg[svg.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
