"""National impact of NG126's progesterone recommendation, with its uncertainty.

Library API::

    from earlypath.impact import run_impact, statistics_for
    result = run_impact("nice-2021", overrides=["uptake=0.7"], draws=10_000, seed=1)
    result.headline.sentence()
    statistics_for("prism-prev-1plus").relative_risk

Scenarios reproduce published national figures from their inputs (see docs/impact.md); trial
statistics are computed only from verified counts.
"""

from earlypath.impact.errors import (
    ImpactError,
    ParameterError,
    UnknownScenarioError,
    UnverifiedCountError,
)
from earlypath.impact.model import OUTPUTS, course, evaluate, evaluate_point, monte_carlo, summarise
from earlypath.impact.parameters import (
    Beta,
    Fixed,
    LogNormal,
    Parameter,
    ParameterSet,
    Triangular,
    Uniform,
)
from earlypath.impact.products import PRODUCTS
from earlypath.impact.run import DEFAULT_DRAWS, DEFAULT_SEED, ImpactResult, run_impact
from earlypath.impact.scenarios import SCENARIOS, Scenario, get_scenario
from earlypath.impact.sensitivity import Tornado, one_way
from earlypath.impact.trials import (
    TRIAL_GROUPS,
    TrialStatistics,
    all_statistics,
    number_needed_to_treat,
    relative_risk,
    risk_difference,
    statistics_for,
)

__all__ = [
    "DEFAULT_DRAWS",
    "DEFAULT_SEED",
    "OUTPUTS",
    "PRODUCTS",
    "SCENARIOS",
    "TRIAL_GROUPS",
    "Beta",
    "Fixed",
    "ImpactError",
    "ImpactResult",
    "LogNormal",
    "Parameter",
    "ParameterError",
    "ParameterSet",
    "Scenario",
    "Tornado",
    "Triangular",
    "TrialStatistics",
    "Uniform",
    "UnknownScenarioError",
    "UnverifiedCountError",
    "all_statistics",
    "course",
    "evaluate",
    "evaluate_point",
    "get_scenario",
    "monte_carlo",
    "number_needed_to_treat",
    "one_way",
    "relative_risk",
    "risk_difference",
    "run_impact",
    "statistics_for",
    "summarise",
]
