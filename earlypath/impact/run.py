"""One call that runs a scenario: point estimate, Monte Carlo intervals, headline check, tornado."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from earlypath.impact.model import OUTPUTS, Summary, evaluate_point, monte_carlo, summarise
from earlypath.impact.scenarios import Scenario, get_scenario
from earlypath.impact.sensitivity import Tornado, one_way

DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20211124  # the day NICE added progesterone to NG126


@dataclass(frozen=True)
class HeadlineCheck:
    output: str
    published: float
    published_text: str
    computed: float
    rounded: float
    reproduced: bool
    citation: str

    def sentence(self) -> str:
        verdict = "reproduces" if self.reproduced else "does NOT reproduce"
        return (
            f"point estimate {self.computed:,.1f} (rounded {self.rounded:,.0f}) {verdict} the "
            f"published {self.published:,.0f} ({self.published_text})"
        )


@dataclass(frozen=True)
class ImpactResult:
    scenario: Scenario
    draws: int
    seed: int
    point: dict[str, float]
    intervals: dict[str, Summary]
    share_of_draws_with_gain: float
    headline: HeadlineCheck
    tornado: Tornado

    def as_dict(self) -> dict[str, object]:
        sc = self.scenario
        return {
            "scenario": sc.key,
            "title": sc.title,
            "region": sc.region,
            "draws": self.draws,
            "seed": self.seed,
            "overrides": list(sc.overrides),
            "headline": {
                "output": self.headline.output,
                "published": self.headline.published,
                "published_text": self.headline.published_text,
                "computed": self.headline.computed,
                "rounded": self.headline.rounded,
                "reproduced": self.headline.reproduced,
                "citation": self.headline.citation,
                "sentence": self.headline.sentence(),
            },
            "outputs": {
                name: {
                    "label": OUTPUTS[name],
                    "point": _json_number(self.point[name]),
                    **{k: _json_number(v) for k, v in self.intervals[name].as_dict().items()},
                }
                for name in OUTPUTS
            },
            "share_of_draws_with_gain": self.share_of_draws_with_gain,
            "parameters": [p.as_dict() for p in sc.parameters],
            "provenance_counts": provenance_counts(sc),
            "notes": list(sc.notes),
            "not_found": list(sc.not_found),
            "sensitivity": self.tornado.as_dict(),
        }


def provenance_counts(scenario: Scenario) -> dict[str, int]:
    counts = {"sourced": 0, "implied": 0, "assumed": 0}
    for p in scenario.parameters:
        counts[p.provenance] += 1
    return counts


def run_impact(
    scenario: str | Scenario = "nice-2021",
    overrides: list[str] | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    sensitivity_output: str = "additional_live_births",
) -> ImpactResult:
    """Run a scenario. `overrides` are ``name=value`` strings; the result is reproducible by seed."""
    sc = get_scenario(scenario) if isinstance(scenario, str) else scenario
    sc = sc.with_overrides(overrides)
    point = evaluate_point(sc.parameters)
    samples = monte_carlo(sc.parameters, draws=draws, seed=seed)
    intervals = summarise(samples)
    gain = float(np.mean(samples["additional_live_births"] > 0))
    h = sc.headline
    computed = point[h.output]
    check = HeadlineCheck(
        h.output,
        h.value,
        h.text,
        computed,
        h.rounded(computed),
        h.reproduced_by(computed),
        h.citation,
    )
    tornado = one_way(sc.parameters, sensitivity_output)
    return ImpactResult(sc, draws, seed, point, intervals, gain, check, tornado)


def _json_number(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)
