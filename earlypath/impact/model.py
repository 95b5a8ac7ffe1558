"""The national model: arithmetic from named inputs to yearly outputs, vectorised with numpy.

    eligible women     = births x share bleeding x share scan-confirmed IUP x share >= 1 previous
                         miscarriage
    treated women      = eligible x uptake
    extra live births  = treated x (min(1, baseline x RR) - baseline)
    course (days)      = stop gestation (16+0 = 112 days) - gestation at presentation
    units per course   = course days x 2 doses a day x units per 400 mg dose
    drug cost          = treated x units per course x pack price / pack size

Every function accepts floats or numpy arrays (one element per Monte Carlo draw).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from earlypath.impact.parameters import ParameterSet
from earlypath.plan import DOSES_PER_DAY  # one definition of the dose
from earlypath.policy import STOP_DAY

STOP_16_0_DAYS = STOP_DAY["16+0"]  # the policy default stop day (16+6 would be 118)

REQUIRED_INPUTS: tuple[str, ...] = (
    "births_per_year",
    "share_bleeding",
    "share_scan_confirmed_iup",
    "share_previous_miscarriage",
    "uptake",
    "baseline_live_birth_rate",
    "relative_risk",
    "presentation_gestation_days",
    "stop_gestation_days",
    "units_per_dose",
    "pack_price_gbp",
    "pack_size",
)

OUTPUTS: dict[str, str] = {
    "eligible_women": "women eligible a year",
    "treated_women": "women treated a year",
    "additional_live_births": "additional live births a year",
    "course_days": "course length (days)",
    "units_per_course": "capsules or pessaries per course",
    "drug_cost_per_course_gbp": "drug cost per course (GBP)",
    "total_drug_cost_gbp": "drug cost a year (GBP)",
    "cost_per_additional_live_birth_gbp": "drug cost per additional live birth (GBP)",
    "number_needed_to_treat": "number needed to treat for one extra live birth",
}

Number = float | np.ndarray


@dataclass(frozen=True)
class Course:
    """One course of vaginal micronised progesterone under the stop-date rule."""

    days: Number
    units: Number
    cost_gbp: Number


def course(
    presentation_gestation_days: Number,
    stop_gestation_days: Number = STOP_16_0_DAYS,
    units_per_dose: Number = 2,
    pack_price_gbp: Number = 21.0,
    pack_size: Number = 21,
) -> Course:
    """Course length, units and cost. Treatment runs from presentation up to (not including) the
    stop day, so a woman presenting at 8+0 (56 days) takes 112 - 56 = 56 days of treatment."""
    days = np.maximum(np.asarray(stop_gestation_days) - np.asarray(presentation_gestation_days), 0)
    units = days * DOSES_PER_DAY * np.asarray(units_per_dose)
    cost = units * np.asarray(pack_price_gbp) / np.asarray(pack_size)
    return Course(_scalar(days), _scalar(units), _scalar(cost))


def evaluate(inputs: Mapping[str, Number]) -> dict[str, Number]:
    """All outputs from a mapping of input name -> value (floats or equal-length arrays)."""
    missing = [k for k in REQUIRED_INPUTS if k not in inputs]
    if missing:
        raise KeyError(f"missing model inputs: {', '.join(missing)}")
    x = {k: np.asarray(inputs[k], dtype=float) for k in REQUIRED_INPUTS}

    eligible = (
        x["births_per_year"]
        * x["share_bleeding"]
        * x["share_scan_confirmed_iup"]
        * x["share_previous_miscarriage"]
    )
    treated = eligible * x["uptake"]
    baseline = x["baseline_live_birth_rate"]
    gain_per_woman = np.minimum(1.0, baseline * x["relative_risk"]) - baseline
    additional = treated * gain_per_woman

    c = course(
        x["presentation_gestation_days"],
        x["stop_gestation_days"],
        x["units_per_dose"],
        x["pack_price_gbp"],
        x["pack_size"],
    )
    total_cost = treated * np.asarray(c.cost_gbp)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_birth = np.where(additional > 0, total_cost / additional, np.nan)
        nnt = np.where(gain_per_woman != 0, 1.0 / gain_per_woman, np.inf)

    out: dict[str, Number] = {
        "eligible_women": eligible,
        "treated_women": treated,
        "additional_live_births": additional,
        "course_days": np.asarray(c.days, dtype=float),
        "units_per_course": np.asarray(c.units, dtype=float),
        "drug_cost_per_course_gbp": np.asarray(c.cost_gbp, dtype=float),
        "total_drug_cost_gbp": total_cost,
        "cost_per_additional_live_birth_gbp": per_birth,
        "number_needed_to_treat": nnt,
    }
    return {k: _scalar(v) for k, v in out.items()}


def evaluate_point(parameters: ParameterSet) -> dict[str, float]:
    """Outputs at every parameter's point value."""
    return {k: float(v) for k, v in evaluate(parameters.point()).items()}


@dataclass(frozen=True)
class Summary:
    """Monte Carlo summary of one output: mean, 2.5th, 50th and 97.5th percentiles."""

    mean: float
    low: float
    median: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "median": self.median, "high": self.high}


def monte_carlo(
    parameters: ParameterSet, draws: int = 10_000, seed: int = 20211124
) -> dict[str, np.ndarray]:
    """Draw every parameter independently (numpy Generator, seeded) and evaluate the model."""
    if draws < 1:
        raise ValueError("draws must be at least 1")
    rng = np.random.default_rng(seed)
    sampled = parameters.sample(rng, draws)
    return {
        k: np.broadcast_to(np.asarray(v, dtype=float), (draws,))
        for k, v in evaluate(sampled).items()
    }


def summarise(samples: Mapping[str, np.ndarray]) -> dict[str, Summary]:
    out: dict[str, Summary] = {}
    for name, values in samples.items():
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            out[name] = Summary(*(float("nan"),) * 4)
            continue
        lo, med, hi = np.percentile(finite, [2.5, 50, 97.5])
        out[name] = Summary(float(finite.mean()), float(lo), float(med), float(hi))
    return out


def _scalar(v: Number) -> Number:
    a = np.asarray(v)
    return float(a) if a.ndim == 0 else a
