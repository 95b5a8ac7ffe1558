"""The tornado plot (one-way sensitivity) as SVG, drawn with the project's one chart module
(`earlypath.svg_chart`), for the impact page and `earlypath impact --plot FILE.svg`."""

from __future__ import annotations

from pathlib import Path

from earlypath.impact.model import OUTPUTS
from earlypath.impact.sensitivity import Tornado
from earlypath.svg_chart import Chart, nice_ticks

LOW_COLOUR, HIGH_COLOUR = "#1f4e79", "#b30000"  # blue solid / red hatched: not colour alone


def _money(output: str) -> bool:
    return output.endswith("_gbp")


def tornado_svg(tornado: Tornado, title: str = "") -> str:
    """The plot as an SVG element (text) for inline use in HTML: one row per uncertain input,
    widest swing at the top, each bar from the base value to the output at the input's 2.5th
    (solid) or 97.5th (hatched) percentile."""
    label = OUTPUTS.get(tornado.output, tornado.output)
    bars = list(tornado.bars)
    base = tornado.base
    values = [base, *(b.output_at_low for b in bars), *(b.output_at_high for b in bars)]
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or abs(base) * 0.1 or 1.0
    ticks = nice_ticks(low - pad, high + pad, count=8)
    x_min, x_max = min(ticks[0], low - pad), max(ticks[-1], high + pad)
    rows = max(1, len(bars))
    unit = "£" if _money(tornado.output) else ""
    chart = Chart(
        x_min,
        x_max,
        y_min=0.0,
        y_max=float(rows),
        width=820,
        height=130 + 34 * rows,
        left=250,
        top=84,
        bottom=56,
    )
    chart.axes(
        [(t, f"{unit}{t:,.0f}") for t in ticks if x_min <= t <= x_max],
        [(rows - i - 0.5, f"{b.parameter} ({b.provenance})") for i, b in enumerate(bars)],
        f"{label} (base {unit}{base:,.0f})",
        "",
        title or f"One-way sensitivity: {label}",
    )
    hatched = chart.hatch("tornado-high", HIGH_COLOUR)
    for i, bar in enumerate(bars):
        centre = rows - i - 0.5
        for value, fill, which in (
            (bar.output_at_low, LOW_COLOUR, "2.5th"),
            (bar.output_at_high, hatched, "97.5th"),
        ):
            chart.rect(
                base,
                centre - 0.32,
                value,
                centre + 0.32,
                fill,
                f"{bar.parameter} at its {which} percentile: {unit}{value:,.0f}",
                stroke=HIGH_COLOUR if fill == hatched else "",
            )
    chart.legend(
        [
            ("input at its 2.5th percentile", LOW_COLOUR, "box"),
            ("input at its 97.5th percentile", hatched, "box"),
        ],
        width=200,
        y0=14,
    )
    chart.line([base, base], [0.0, float(rows)], "#000000", width=1.5)
    if not bars:
        chart.text((x_min + x_max) / 2, 0.5, "No uncertain inputs.", anchor="middle")
    return chart.svg()


def save_tornado(tornado: Tornado, path: Path, title: str = "") -> Path:
    """Write the plot as an SVG file (the path must end in .svg)."""
    path = Path(path)
    if path.suffix.lower() != ".svg":
        raise ValueError(f"plot path must end in .svg, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tornado_svg(tornado, title) + "\n", encoding="utf-8")
    return path
