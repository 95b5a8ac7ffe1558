"""One-way sensitivity: move one uncertain parameter to its 2.5th and 97.5th percentiles, hold the
others at their point values, and record one output. Sorted by swing, widest first (a tornado)."""

from __future__ import annotations

from dataclasses import dataclass

from earlypath.impact.model import evaluate
from earlypath.impact.parameters import ParameterSet


@dataclass(frozen=True)
class SensitivityBar:
    parameter: str
    provenance: str
    low_input: float
    high_input: float
    output_at_low: float
    output_at_high: float

    @property
    def swing(self) -> float:
        return abs(self.output_at_high - self.output_at_low)

    def as_dict(self) -> dict[str, object]:
        return {
            "parameter": self.parameter,
            "provenance": self.provenance,
            "low_input": self.low_input,
            "high_input": self.high_input,
            "output_at_low": self.output_at_low,
            "output_at_high": self.output_at_high,
            "swing": self.swing,
        }


@dataclass(frozen=True)
class Tornado:
    output: str
    base: float
    bars: tuple[SensitivityBar, ...]

    def as_dict(self) -> dict[str, object]:
        return {"output": self.output, "base": self.base, "bars": [b.as_dict() for b in self.bars]}


def one_way(
    parameters: ParameterSet, output: str, low_q: float = 0.025, high_q: float = 0.975
) -> Tornado:
    point = parameters.point()
    base = float(evaluate(point)[output])
    bars: list[SensitivityBar] = []
    for p in parameters:
        if not p.uncertain:
            continue
        lo = min(max(p.distribution.quantile(low_q), p.minimum), p.maximum)
        hi = min(max(p.distribution.quantile(high_q), p.minimum), p.maximum)
        at_lo = float(evaluate({**point, p.name: lo})[output])
        at_hi = float(evaluate({**point, p.name: hi})[output])
        bars.append(SensitivityBar(p.name, p.provenance, lo, hi, at_lo, at_hi))
    bars.sort(key=lambda b: b.swing, reverse=True)
    return Tornado(output, base, tuple(bars))
