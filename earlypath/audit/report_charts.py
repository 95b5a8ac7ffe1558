"""The report's charts besides the funnel: the monthly trend (rate, 95% interval, counts) and a
small multiple per breakdown (one panel per measure, a dot and its interval per group value).
Every mark carries a <title> with its figures; the report puts the same figures in tables."""

from __future__ import annotations

from typing import Any

from earlypath.svg_chart import Chart, nice_ticks

__all__ = ["panel_svg", "trend_svg"]

BLUE, GREY = "#1f4e79", "#555555"


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _describe(label: str, rate: dict[str, Any]) -> str:
    if rate.get("suppressed"):
        return f"{label}: withheld (small numbers)"
    if rate.get("rate") is None:
        return f"{label}: no episodes in the denominator"
    return (
        f"{label}: {_pct(rate['rate'])} ({rate['numerator']:,} of {rate['denominator']:,}; "
        f"95% CI {_pct(rate['ci95_low'])} to {_pct(rate['ci95_high'])})"
    )


def _top(rates: list[dict[str, Any]]) -> float:
    """The y (or x) axis top: the highest upper interval, rounded up to a tick, at most 1."""
    high = max((r["ci95_high"] for r in rates if r.get("ci95_high") is not None), default=1.0)
    ticks = nice_ticks(0.0, max(high, 0.01), count=4)
    return min(1.0, ticks[-1] if ticks[-1] >= high else ticks[-1] + (ticks[1] - ticks[0]))


def trend_svg(months: list[tuple[str, dict[str, Any]]], title: str) -> str:
    """Rate by month with its Wilson 95% interval as an error bar; empty when fewer than two
    months have a rate."""
    points = [(m, r) for m, r in months if r.get("rate") is not None]
    if len(points) < 2:
        return ""
    top = _top([r for _, r in points])
    chart = Chart(-0.5, len(points) - 0.5, 0.0, top, width=800, height=340, top=56, bottom=74)
    xs = [float(i) for i in range(len(points))]
    ticks = nice_ticks(0.0, top, count=4)
    step = max(1, len(points) // 12)
    chart.axes(
        [(x, points[int(x)][0]) for x in xs[::step]],
        [(t, _pct(t)) for t in ticks if t <= top + 1e-9],
        "month of assessment",
        "proportion",
        title,
        slant_x=True,
    )
    for x, (_, rate) in zip(xs, points, strict=True):
        chart.interval(x, rate["ci95_low"], rate["ci95_high"], GREY)
    chart.line(xs, [r["rate"] for _, r in points], BLUE, width=1.5)
    for x, (month, rate) in zip(xs, points, strict=True):
        chart.point(x, rate["rate"], BLUE, _describe(month, rate), radius=3)
    chart.legend([("rate", BLUE, ""), ("95% interval (Wilson)", GREY, "")], y0=10)
    return chart.svg()


def panel_svg(rows: list[tuple[str, dict[str, Any]]], overall: float | None, title: str) -> str:
    """One small panel: each group value's rate as a dot with its interval, against the overall
    rate (dashed). Withheld values are listed with the word "withheld"."""
    shown = [r for _, r in rows if r.get("rate") is not None]
    top = _top(shown) if shown else 1.0
    n = max(1, len(rows))
    chart = Chart(
        0.0,
        top,
        0.0,
        float(n),
        width=340,
        height=70 + 20 * n,
        left=120,
        right=16,
        top=28,
        bottom=36,
    )
    ticks = nice_ticks(0.0, top, count=3)
    chart.axes(
        [(t, _pct(t)) for t in ticks if t <= top + 1e-9],
        [(n - i - 0.5, _short(value)) for i, (value, _) in enumerate(rows)],
        "",
        "",
        title,
        title_size=11,
    )
    if overall is not None and overall <= top:
        chart.line([overall, overall], [0.0, float(n)], GREY, "4 3")
    for i, (value, rate) in enumerate(rows):
        y = n - i - 0.5
        if rate.get("rate") is None:
            chart.text(0.0, y, "withheld" if rate.get("suppressed") else "none", 9, 4, 3)
            continue
        chart.line([rate["ci95_low"], rate["ci95_high"]], [y, y], BLUE, width=2)
        chart.point(rate["rate"], y, BLUE, _describe(value, rate), radius=3.5)
    return chart.svg()


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
