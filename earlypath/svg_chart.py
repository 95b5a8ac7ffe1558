"""A small SVG chart: axes, lines, points, bars and labels, written as text.

The one chart stack of the project: the audit report (funnel, monthly trend, small multiples)
and the impact page (tornado) draw with it. Chosen over matplotlib because writing the SVG
directly keeps pages fast to build (no 0.5 s import, no plotting-library state in a web
process), the output small and byte-for-byte reproducible, and lets each mark carry a
``<title>`` (its group, rate and count) that screen readers and hover tooltips show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

__all__ = ["Chart", "nice_ticks"]

FONT = 'font-family="sans-serif"'


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering low..high."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _n(value: float) -> str:
    return f"{value:.1f}"


@dataclass
class Chart:
    """A plot area mapping data (x_min..x_max, y_min..y_max) to an SVG canvas of width x height."""

    x_min: float
    x_max: float
    y_min: float = 0.0
    y_max: float = 1.0
    width: int = 700
    height: int = 420
    left: int = 64
    right: int = 20
    top: int = 36
    bottom: int = 64
    parts: list[str] = field(default_factory=list)

    def x(self, value: float) -> float:
        span = (self.x_max - self.x_min) or 1.0
        return self.left + (value - self.x_min) / span * (self.width - self.left - self.right)

    def y(self, value: float) -> float:
        span = (self.y_max - self.y_min) or 1.0
        return (
            self.height
            - self.bottom
            - (value - self.y_min) / span * (self.height - self.top - self.bottom)
        )

    def line(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        colour: str,
        dash: str = "",
        width: float = 1,
    ) -> None:
        coords = " ".join(f"{_n(self.x(a))},{_n(self.y(b))}" for a, b in zip(xs, ys, strict=True))
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" '
            f'stroke-width="{width}"{dashed}/>'
        )

    def point(self, x: float, y: float, colour: str, title: str, radius: float = 3.5) -> None:
        self.parts.append(
            f'<circle cx="{_n(self.x(x))}" cy="{_n(self.y(y))}" r="{radius}" fill="{colour}">'
            f"<title>{escape(title)}</title></circle>"
        )

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: int = 11,
        dx: int = 5,
        dy: int = -5,
        anchor: str = "start",
    ) -> None:
        self.parts.append(
            f'<text x="{_n(self.x(x) + dx)}" y="{_n(self.y(y) + dy)}" font-size="{size}" '
            f'text-anchor="{anchor}" {FONT}>{escape(text)}</text>'
        )

    def rect(
        self, x0: float, y0: float, x1: float, y1: float, fill: str, title: str, stroke: str = ""
    ) -> None:
        """A bar from data (x0, y0) to (x1, y1), in either order."""
        left, right = sorted((self.x(x0), self.x(x1)))
        top, bottom = sorted((self.y(y0), self.y(y1)))
        edge = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
        self.parts.append(
            f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(max(right - left, 0.5))}" '
            f'height="{_n(bottom - top)}" fill="{fill}"{edge}><title>{escape(title)}</title></rect>'
        )

    def interval(self, x: float, low: float, high: float, colour: str, cap: float = 3) -> None:
        """A vertical error bar from low to high at x."""
        cx, y0, y1 = _n(self.x(x)), _n(self.y(low)), _n(self.y(high))
        self.parts.append(
            f'<path d="M{cx},{y0}V{y1}M{_n(self.x(x) - cap)},{y0}h{2 * cap}'
            f'M{_n(self.x(x) - cap)},{y1}h{2 * cap}" stroke="{colour}" fill="none"/>'
        )

    def hatch(self, pattern_id: str, colour: str) -> str:
        """Define a diagonal hatch fill (so two series differ by more than colour); returns
        the fill value to use."""
        self.parts.insert(
            0,
            f'<defs><pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="3"/></pattern>'
            "</defs>",
        )
        return f"url(#{pattern_id})"

    def axes(
        self,
        x_ticks: Sequence[tuple[float, str]],
        y_ticks: Sequence[tuple[float, str]],
        x_label: str,
        y_label: str,
        title: str,
        slant_x: bool = False,
        title_size: int = 13,
    ) -> None:
        x0, x1 = self.left, self.width - self.right
        y0, y1 = self.height - self.bottom, self.top
        out = self.parts
        out.append(
            f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" '
            'fill="none" stroke="#333333" stroke-width="1"/>'
        )
        for value, label in y_ticks:
            y = _n(self.y(value))
            out.append(f'<line x1="{x0 - 4}" y1="{y}" x2="{x1}" y2="{y}" stroke="#dddddd"/>')
            out.append(
                f'<text x="{x0 - 7}" y="{y}" font-size="10" text-anchor="end" '
                f'dominant-baseline="middle" {FONT}>{escape(label)}</text>'
            )
        for value, label in x_ticks:
            x = _n(self.x(value))
            out.append(f'<line x1="{x}" y1="{y0}" x2="{x}" y2="{y0 + 4}" stroke="#333333"/>')
            if slant_x:
                out.append(
                    f'<text x="{x}" y="{y0 + 8}" font-size="9" text-anchor="end" {FONT} '
                    f'transform="rotate(-45 {x} {y0 + 8})">{escape(label)}</text>'
                )
            else:
                out.append(
                    f'<text x="{x}" y="{y0 + 16}" font-size="10" text-anchor="middle" {FONT}>'
                    f"{escape(label)}</text>"
                )
        out.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{self.height - 8}" font-size="11" '
            f'text-anchor="middle" {FONT}>{escape(x_label)}</text>'
        )
        middle = (y0 + y1) / 2
        out.append(
            f'<text x="14" y="{middle:.1f}" font-size="11" text-anchor="middle" {FONT} '
            f'transform="rotate(-90 14 {middle:.1f})">{escape(y_label)}</text>'
        )
        out.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{y1 - 14}" font-size="{title_size}" '
            f'text-anchor="middle" {FONT}>{escape(title)}</text>'
        )

    def legend(
        self, items: Sequence[tuple[str, str, str]], width: int = 150, y0: int | None = None
    ) -> None:
        """(label, colour, dash) rows in the plot's top-right corner; a dash of "box" draws a
        filled swatch (colour is then a fill, such as a hatch)."""
        x = self.width - self.right - width
        for i, (label, colour, dash) in enumerate(items):
            y = (self.top + 14 if y0 is None else y0) + i * 16
            if dash == "box":
                mark = (
                    f'<rect x="{x}" y="{y - 5}" width="24" height="10" fill="{colour}" '
                    'stroke="#333333"/>'
                )
            else:
                dashed = f' stroke-dasharray="{dash}"' if dash else ""
                mark = f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{colour}"{dashed}/>'
            self.parts.append(
                f'{mark}<text x="{x + 30}" y="{y}" font-size="10" dominant-baseline="middle" '
                f"{FONT}>{escape(label)}</text>"
            )

    def svg(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}">' + "".join(self.parts) + "</svg>"
        )
