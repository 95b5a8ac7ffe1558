"""Trial statistics from counts against the published figures (to the printed precision)."""

from __future__ import annotations

import math

import pytest

from earlypath.impact import UnverifiedCountError, statistics_for
from earlypath.impact.trials import (
    TRIAL_GROUPS,
    Arm,
    Count,
    Interval,
    TrialGroup,
    number_needed_to_treat,
    relative_risk,
    risk_difference,
)


def r2(iv: Interval) -> tuple[float, float, float]:
    return iv.rounded(2)


def test_prism_previous_miscarriage_crude_rr_matches_cochrane_and_crude_figure():
    s = statistics_for("prism-prev-1plus")
    assert round(s.relative_risk.point, 3) == 1.079  # "crude 1.079" in the reference
    assert r2(s.relative_risk) == (1.08, 1.02, 1.14)  # Cochrane 2021: 1.08 (1.02 to 1.14)
    adjusted = [p for p in s.group.published if p.adjusted]
    assert [(p.point, p.low, p.high) for p in adjusted] == [(1.09, 1.03, 1.15)]


def test_prism_previous_miscarriage_risk_difference_matches_economic_evaluation():
    s = statistics_for("prism-prev-1plus")
    # Okeke Ogwulu et al.: effect difference 0.055 (0.014 to 0.096)
    assert s.risk_difference_wald.rounded(3) == (0.055, 0.014, 0.096)
    assert s.risk_difference.rounded(3) == (0.055, 0.014, 0.096)  # Newcombe agrees here
    assert round(s.nnt.point) == 18
    assert not s.nnt.crosses_zero
    assert (round(s.nnt.low), round(s.nnt.high)) == (10, 71)


def test_prism_all_women():
    s = statistics_for("prism-all")
    rr = s.relative_risk
    # published 1.03 (1.00 to 1.07) is adjusted; the crude lower bound is 0.993
    assert (round(rr.point, 2), round(rr.high, 2)) == (1.03, 1.07)
    assert round(rr.low, 3) == 0.993
    assert s.risk_difference_wald.rounded(3)[0] == 0.022  # BJOG: 0.022 (-0.004 to 0.050)
    assert round(s.risk_difference.high, 2) == 0.05
    assert s.nnt.crosses_zero


def test_prism_no_previous_miscarriage_derived_counts():
    g = TRIAL_GROUPS["prism-prev-0"]
    assert (g.treatment.events.value, g.treatment.total.value) == (1513 - 689, 2025 - 914)
    assert (g.control.events.value, g.control.total.value) == (1459 - 619, 2013 - 886)
    rr = statistics_for(g).relative_risk
    assert (round(rr.low, 2), round(rr.high, 2)) == (0.95, 1.04)
    assert abs(rr.point - 0.99) < 0.006  # crude 0.995 beside published 0.99


def test_promise():
    assert r2(statistics_for("promise-all").relative_risk) == (1.04, 0.94, 1.15)


def test_unverified_subgroup_is_refused_not_guessed():
    with pytest.raises(UnverifiedCountError, match="not verified"):
        statistics_for("prism-prev-3plus")
    assert not TRIAL_GROUPS["prism-prev-3plus"].verified


def test_a_count_marked_unverified_is_refused_even_with_a_value():
    good = Count(10, "x", True)
    group = TrialGroup(
        "t",
        "T",
        "test",
        Arm("a", Count(5, "press release", False), good),
        Arm("b", good, good),
        "live birth",
    )
    with pytest.raises(UnverifiedCountError, match="press release"):
        statistics_for(group)


def test_impossible_counts_are_refused():
    group = TrialGroup(
        "t",
        "T",
        "test",
        Arm("a", Count(11, "x", True), Count(10, "x", True)),
        Arm("b", Count(5, "x", True), Count(10, "x", True)),
        "live birth",
    )
    with pytest.raises(UnverifiedCountError, match="impossible"):
        statistics_for(group)


def test_newcombe_difference_known_value():
    # Newcombe 1998 example (method 10): 56/70 - 48/80 = 0.2000, 95% CI 0.0524 to 0.3339
    d = risk_difference(56, 70, 48, 80)
    assert (round(d.point, 4), round(d.low, 4), round(d.high, 4)) == (0.2, 0.0524, 0.3339)


def test_relative_risk_symmetry_on_log_scale():
    rr = relative_risk(30, 100, 20, 100)
    assert math.isclose(
        math.log(rr.point) - math.log(rr.low), math.log(rr.high) - math.log(rr.point)
    )


def test_nnt_crossing_zero_reads_benefit_to_harm():
    nnt = number_needed_to_treat(Interval(0.02, -0.01, 0.05))
    assert nnt.crosses_zero and nnt.low == pytest.approx(20) and nnt.high == pytest.approx(-100)
    assert "infinity" in nnt.describe()
