"""The published scenarios reproduce their headlines, keep provenance honest, and take overrides."""

from __future__ import annotations

import pytest

from earlypath.impact import (
    SCENARIOS,
    ParameterError,
    UnknownScenarioError,
    evaluate_point,
    get_scenario,
    run_impact,
)


def test_nice_2021_reproduces_7200_eligible():
    r = run_impact("nice-2021", draws=2_000, seed=1)
    assert r.headline.output == "eligible_women"
    assert r.headline.rounded == 7200 and r.headline.reproduced
    assert "reproduces the published 7,200" in r.headline.sentence()
    s = r.intervals["eligible_women"]
    assert s.low < 7200 < s.high


def test_coomarasamy_2020_reproduces_8450_births():
    r = run_impact("coomarasamy-2020", draws=2_000, seed=1)
    assert r.headline.output == "additional_live_births"
    assert round(r.point["additional_live_births"]) == 8450 and r.headline.reproduced
    s = r.intervals["additional_live_births"]
    assert s.low < 8450 < s.high


@pytest.mark.parametrize("key", list(SCENARIOS))
def test_provenance_is_honest(key):
    sc = get_scenario(key)
    implied = [p for p in sc.parameters if p.provenance == "implied"]
    assert [p.name for p in implied] == ["share_bleeding"]
    assert all(p.implied_from for p in implied)
    assert all(p.citation for p in sc.parameters if p.provenance == "sourced")
    assert sc.not_found, "a scenario whose inputs were not found must say so"


def test_scenarios_are_not_blended():
    nice, coom = get_scenario("nice-2021"), get_scenario("coomarasamy-2020")
    assert nice.parameters["births_per_year"].value != coom.parameters["births_per_year"].value
    assert nice.parameters["relative_risk"].value == 1.08
    assert coom.parameters["relative_risk"].value == 1.09
    # the implied eligible population behind 8,450 is far larger than NICE's 7,200
    assert evaluate_point(coom.parameters)["eligible_women"] > 10 * 7200


def test_override_changes_result_and_breaks_reproduction():
    r = run_impact("nice-2021", overrides=["share_previous_miscarriage=0.3"], draws=500, seed=1)
    assert not r.headline.reproduced
    assert r.scenario.overrides == ("share_previous_miscarriage=0.3",)
    p = r.scenario.parameters["share_previous_miscarriage"]
    assert p.provenance == "assumed" and "was 0.445765, sourced" in p.note


def test_uptake_does_not_change_nice_eligibility_but_changes_births():
    full = run_impact("nice-2021", draws=200, seed=1)
    half = run_impact("nice-2021", overrides=["uptake=0.5"], draws=200, seed=1)
    assert half.point["eligible_women"] == pytest.approx(full.point["eligible_women"])
    assert half.point["additional_live_births"] == pytest.approx(
        full.point["additional_live_births"] / 2
    )


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("nonsense=1", "unknown parameter 'nonsense'"),
        ("uptake=1.5", "'uptake' must be between 0 and 1"),
        ("uptake=lots", "'uptake' needs a number"),
        ("uptake", "name=value"),
        ("product=generic", "'product' must be one of"),
        ("product=cyclogest", "pack_price_gbp"),
    ],
)
def test_bad_overrides_name_the_parameter(assignment, message):
    with pytest.raises(ParameterError, match=message):
        run_impact("nice-2021", overrides=[assignment], draws=10)


def test_product_with_user_price():
    r = run_impact(
        "nice-2021",
        overrides=["product=cyclogest", "pack_price_gbp=30", "pack_size=15"],
        draws=10,
    )
    assert r.point["units_per_course"] == 112  # 56 days x 2 pessaries
    assert r.point["drug_cost_per_course_gbp"] == pytest.approx(224)


def test_unknown_scenario():
    with pytest.raises(UnknownScenarioError, match="nice-2021"):
        run_impact("nice-2019")


def test_tornado_ranks_relative_risk_first_for_births():
    r = run_impact("coomarasamy-2020", draws=100)
    assert r.tornado.output == "additional_live_births"
    assert r.tornado.bars[0].parameter == "relative_risk"
    swings = [b.swing for b in r.tornado.bars]
    assert swings == sorted(swings, reverse=True)
