"""The model's arithmetic on hand-checked cases, monotonicity, and Monte Carlo reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.impact import (
    Beta,
    Fixed,
    LogNormal,
    Parameter,
    ParameterError,
    ParameterSet,
    Triangular,
    Uniform,
    course,
    evaluate,
    monte_carlo,
    summarise,
)

BASE = {
    "births_per_year": 100_000.0,
    "share_bleeding": 0.2,
    "share_scan_confirmed_iup": 0.9,
    "share_previous_miscarriage": 0.5,
    "uptake": 0.8,
    "baseline_live_birth_rate": 0.7,
    "relative_risk": 1.1,
    "presentation_gestation_days": 56.0,
    "stop_gestation_days": 112.0,
    "units_per_dose": 2.0,
    "pack_price_gbp": 21.0,
    "pack_size": 21.0,
}


def test_hand_checked_case():
    out = evaluate(BASE)
    # 100,000 x 0.2 x 0.9 x 0.5 = 9,000 eligible; x 0.8 = 7,200 treated
    assert out["eligible_women"] == pytest.approx(9_000)
    assert out["treated_women"] == pytest.approx(7_200)
    # gain per woman 0.7 x 0.1 = 0.07 -> 504 births; NNT 1/0.07
    assert out["additional_live_births"] == pytest.approx(504)
    assert out["number_needed_to_treat"] == pytest.approx(1 / 0.07)
    # 8+0 to 16+0: 56 days x 2 doses x 2 capsules = 224 capsules at GBP 1 each
    assert out["course_days"] == 56
    assert out["units_per_course"] == 224
    assert out["drug_cost_per_course_gbp"] == pytest.approx(224)
    assert out["total_drug_cost_gbp"] == pytest.approx(7_200 * 224)
    assert out["cost_per_additional_live_birth_gbp"] == pytest.approx(7_200 * 224 / 504)


def test_course_stop_date_rule():
    assert course(6 * 7).days == 112 - 42  # presenting at 6+0: 70 days
    assert course(16 * 7).days == 0  # at 16+0 nothing is left
    assert course(17 * 7).days == 0  # never negative
    c = course(56, stop_gestation_days=118)  # policy 16+6
    assert c.days == 62 and c.units == 62 * 4 and c.cost_gbp == pytest.approx(248)
    # a one-pessary 400 mg product at GBP 2 a pessary
    assert course(56, units_per_dose=1, pack_price_gbp=30, pack_size=15).cost_gbp == 224


def test_live_birth_rate_cannot_exceed_one():
    out = evaluate({**BASE, "baseline_live_birth_rate": 0.95, "relative_risk": 1.2})
    assert out["additional_live_births"] == pytest.approx(7_200 * 0.05)


def test_no_benefit_gives_undefined_cost_per_birth():
    out = evaluate({**BASE, "relative_risk": 1.0})
    assert out["additional_live_births"] == 0
    assert math.isnan(out["cost_per_additional_live_birth_gbp"])
    assert math.isinf(out["number_needed_to_treat"])


def test_missing_input_is_named():
    with pytest.raises(KeyError, match="uptake"):
        evaluate({k: v for k, v in BASE.items() if k != "uptake"})


def test_vectorised_matches_scalar():
    arr = {k: np.full(3, v) for k, v in BASE.items()}
    arr["uptake"] = np.array([0.2, 0.5, 0.8])
    out = evaluate(arr)
    for i, u in enumerate([0.2, 0.5, 0.8]):
        assert out["additional_live_births"][i] == pytest.approx(
            evaluate({**BASE, "uptake": u})["additional_live_births"]
        )


share = st.floats(0, 1, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(u1=share, u2=share, rr=st.floats(1.0, 3.0), base=st.floats(0.05, 1.0), s=share)
def test_more_uptake_never_fewer_births_when_effect_is_not_harmful(u1, u2, rr, base, s):
    lo, hi = sorted((u1, u2))
    common = {**BASE, "relative_risk": rr, "baseline_live_birth_rate": base, "share_bleeding": s}
    births_lo = evaluate({**common, "uptake": lo})["additional_live_births"]
    births_hi = evaluate({**common, "uptake": hi})["additional_live_births"]
    assert births_hi >= births_lo - 1e-9
    cost_lo = evaluate({**common, "uptake": lo})["total_drug_cost_gbp"]
    cost_hi = evaluate({**common, "uptake": hi})["total_drug_cost_gbp"]
    assert cost_hi >= cost_lo - 1e-9


@settings(max_examples=100, deadline=None)
@given(u=share, rr=st.floats(0.2, 3.0))
def test_births_move_with_the_sign_of_the_effect(u, rr):
    births = evaluate({**BASE, "uptake": u, "relative_risk": rr})["additional_live_births"]
    if u > 0:
        assert math.copysign(1, births) == math.copysign(1, rr - 1) or births == 0


@settings(max_examples=100, deadline=None)
@given(d1=st.floats(0, 130), d2=st.floats(0, 130))
def test_later_presentation_never_longer_course(d1, d2):
    early, late = sorted((d1, d2))
    assert course(late).days <= course(early).days


def _params() -> ParameterSet:
    def p(name, value, dist, lo=0.0, hi=math.inf):
        return Parameter(name, value, "", name, "assumed", dist, minimum=lo, maximum=hi)

    return ParameterSet(
        (
            p("births_per_year", 100_000.0, Fixed(100_000)),
            p("share_bleeding", 0.2, Triangular(0.1, 0.2, 0.3), hi=1),
            p("share_scan_confirmed_iup", 0.9, Uniform(0.85, 0.95), hi=1),
            p("share_previous_miscarriage", 0.5, Beta(50, 50), hi=1),
            p("uptake", 0.8, Fixed(0.8), hi=1),
            p("baseline_live_birth_rate", 0.7, Beta.from_counts(619, 886), hi=1),
            p("relative_risk", 1.09, LogNormal.from_ci(1.09, 1.03, 1.15)),
            p("presentation_gestation_days", 56.0, Triangular(42, 56, 84), hi=112),
            p("stop_gestation_days", 112.0, Fixed(112)),
            p("units_per_dose", 2.0, Fixed(2)),
            p("pack_price_gbp", 21.0, Fixed(21)),
            p("pack_size", 21.0, Fixed(21)),
        )
    )


def test_monte_carlo_is_reproducible_by_seed():
    a = monte_carlo(_params(), draws=2_000, seed=7)
    b = monte_carlo(_params(), draws=2_000, seed=7)
    c = monte_carlo(_params(), draws=2_000, seed=8)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["additional_live_births"], c["additional_live_births"])
    assert summarise(a)["additional_live_births"] == summarise(b)["additional_live_births"]


def test_monte_carlo_interval_brackets_point():
    s = summarise(monte_carlo(_params(), draws=5_000, seed=1))["additional_live_births"]
    point = evaluate(_params().point())["additional_live_births"]
    assert s.low < point < s.high


def test_distribution_quantiles_match_samples():
    rng = np.random.default_rng(0)
    for dist in (
        Beta.from_counts(619, 886),
        LogNormal.from_ci(1.08, 1.02, 1.14),
        Triangular(42, 56, 84),
        Uniform(0.5, 1.0),
    ):
        draws = dist.sample(rng, 200_000)
        for q in (0.025, 0.5, 0.975):
            assert np.quantile(draws, q) == pytest.approx(dist.quantile(q), rel=0.01)


def test_lognormal_from_ci_recovers_ci():
    d = LogNormal.from_ci(1.09, 1.03, 1.15)
    assert round(d.quantile(0.025), 2) == 1.03 and round(d.quantile(0.975), 2) == 1.15


def test_parameter_rules():
    with pytest.raises(ParameterError, match="citation"):
        Parameter("x", 1.0, "", "x", "sourced", Fixed(1.0))
    with pytest.raises(ParameterError, match="implied"):
        Parameter("x", 1.0, "", "x", "implied", Fixed(1.0))
    with pytest.raises(ParameterError, match="between 0 and 1"):
        Parameter("x", 2.0, "proportion", "x", "assumed", Fixed(2.0), minimum=0, maximum=1)
    ps = _params()
    with pytest.raises(ParameterError, match="unknown parameter 'nope'"):
        ps["nope"]
    changed = ps.with_value("uptake", 0.5)
    assert changed["uptake"].value == 0.5 and changed["uptake"].provenance == "assumed"
    assert "was 0.8" in changed["uptake"].note
