"""The guideline's executable specification, every section, on every engine (the ``engine``
fixture: python, duckdb, spark). One vignette format (`tests.spec.vignettes`): decisions,
recommendations, missing and the guideline version on every engine; the rest of each section
(advice, plan, gestation, rendered fields) on the python engine alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from earlypath import Policy, assess
from earlypath.guideline.pathway import PathwayPolicy, sections
from tests.engine_fixture import Engine
from tests.spec.vignettes import Vignette, check, load_vignettes

VIGNETTES = load_vignettes()


@pytest.fixture(scope="module")
def assessed(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every vignette's assessment on ``engine``: one batch per policy and pathway setting."""
    groups: dict[tuple, list[Vignette]] = {}
    for v in VIGNETTES:
        groups.setdefault(v.settings, []).append(v)
    out: dict[str, dict[str, Any]] = {}
    for (policy, pathway), chosen in groups.items():
        got = engine.assess_many(
            [v.episode for v in chosen], Policy(**dict(policy)), PathwayPolicy(**dict(pathway))
        )
        out.update({v.id: a for v, a in zip(chosen, got, strict=True)})
    return out


@pytest.mark.parametrize("v", VIGNETTES, ids=[v.id for v in VIGNETTES])
def test_vignette(v: Vignette, engine: Engine, assessed: dict[str, dict[str, Any]]) -> None:
    check(v, assessed[v.id], engine.name)


def test_every_vignette_cites_a_recommendation_and_every_topic_is_covered() -> None:
    assert all(v.recommendation for v in VIGNETTES)
    assert {v.topic for v in VIGNETTES} == {"progesterone", *(s.name for s in sections())}
    assert len(load_vignettes("progesterone")) >= 40


def test_every_outcome_of_every_section_is_reached() -> None:
    reached: dict[str, set[str]] = {}
    for v in VIGNETTES:
        for topic, outcome in v.section_decisions.items():
            reached.setdefault(topic, set()).add(outcome)
    for section in sections():
        table = section.tables("2023-08-23", PathwayPolicy("rewrite-unverified"))["main"]
        assert set(table.outcomes) <= reached[section.name], section.name


def test_every_progesterone_outcome_and_the_16_week_boundary_are_covered() -> None:
    decisions = {v.expect["decision"] for v in load_vignettes("progesterone")}
    assert decisions == {"offer", "continue", "stop", "do_not_offer", "needs_information"}
    days = {v.expect.get("assessment.gestation.days") for v in VIGNETTES}
    assert {111, 112} <= days


def test_every_recommendation_cites_number_and_version() -> None:
    for v in load_vignettes("progesterone"):
        a = assess(v.episode, Policy(**v.policy), pathway_policy=PathwayPolicy(**v.pathway_policy))
        p = a["progesterone"]
        cited = {c["number"] for c in p["citations"]}
        assert set(p["recommendations"]) <= cited
        for c in p["citations"]:
            assert c["version"] == a["guideline"]["version"] and c["guideline"] == "NG126"
            assert c["in_force_from"] == a["guideline"]["in_force_from"]
            assert c["in_force_to"] == a["guideline"]["in_force_to"]
