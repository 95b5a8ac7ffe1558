"""The tornado plot, drawn with matplotlib's Agg canvas (no display needed), as SVG or PNG.

Figures are built with the object API (`Figure` + `FigureCanvasAgg`), not pyplot, so nothing
changes matplotlib's global backend and the functions are safe to call from a web server.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from earlypath.impact.model import OUTPUTS
from earlypath.impact.sensitivity import Tornado

_COLOURS = {"low": "#1f77b4", "high": "#d62728"}  # blue / red, distinguishable with hatching too


def tornado_figure(tornado: Tornado, title: str = "") -> Figure:
    bars = list(reversed(tornado.bars))  # widest at the top
    height = max(2.5, 0.55 * len(bars) + 1.6)
    fig = Figure(figsize=(8, height))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    base = tornado.base
    for i, bar in enumerate(bars):
        for key, value, hatch in (
            ("low", bar.output_at_low, ""),
            ("high", bar.output_at_high, "//"),
        ):
            ax.barh(
                i,
                value - base,
                left=base,
                color=_COLOURS[key],
                hatch=hatch,
                edgecolor="black",
                linewidth=0.5,
                label=f"parameter at its {'2.5th' if key == 'low' else '97.5th'} percentile"
                if i == 0
                else None,
            )
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([f"{b.parameter} ({b.provenance})" for b in bars])
    ax.set_xlabel(f"{OUTPUTS.get(tornado.output, tornado.output)} (base {base:,.0f})")
    ax.set_title(title or f"One-way sensitivity: {OUTPUTS.get(tornado.output, tornado.output)}")
    if bars:
        ax.legend(loc="lower right", fontsize="small")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    fig.tight_layout()
    return fig


def tornado_svg(tornado: Tornado, title: str = "") -> str:
    """The plot as an SVG document (string), for inline use in HTML."""
    fig = tornado_figure(tornado, title)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    # drop the XML prolog and DOCTYPE so the SVG can be embedded inline in HTML
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def save_tornado(tornado: Tornado, path: Path, title: str = "") -> Path:
    """Save as SVG or PNG, chosen by the file's suffix (.svg or .png)."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("svg", "png"):
        raise ValueError(f"plot path must end in .svg or .png, got {path.name!r}")
    fig = tornado_figure(tornado, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=suffix, dpi=150 if suffix == "png" else None)
    return path
