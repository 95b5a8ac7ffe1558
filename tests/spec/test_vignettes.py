"""The guideline's executable specification, on every engine (the ``engine`` fixture: python,
duckdb, spark). The decision, recommendations, missing and guideline version are checked on
every engine; advice, gestation and the plan are the python engine's alone.
"""

from __future__ import annotations

import pytest

from earlypath import Policy, assess
from tests.engine_fixture import Engine
from tests.spec.vignettes import Vignette, load_vignettes

VIGNETTES = load_vignettes("progesterone")


def check(v: Vignette, assessment: dict, engine: str = "python") -> None:
    p = assessment["progesterone"]
    e = v.expect
    assert p["decision"] == e["decision"], v.about or v.id
    if "recommendations" in e:
        assert p["recommendations"] == e["recommendations"]
    if "missing" in e:
        assert p["missing"] == e["missing"]
    if "guideline_version" in e:
        assert assessment["guideline"]["version"] == e["guideline_version"]
    if engine != "python":
        return
    if "advice" in e:
        assert [a["id"] for a in p["advice"]] == e["advice"]
    if "gestation" in e:
        if e["gestation"] is None:
            assert assessment["gestation"] is None
        else:
            for key, value in e["gestation"].items():
                assert assessment["gestation"][key] == value, key
    if "plan" in e:
        plan = p["plan"]
        if e["plan"] is None:
            assert plan is None
        else:
            for key, value in e["plan"].items():
                actual = plan["product"]["key"] if key == "product" else plan[key]
                assert actual == value, key


@pytest.fixture(scope="module")
def assessed(engine: Engine) -> dict[str, dict]:
    """Every vignette's assessment on ``engine``: one batch per policy setting."""
    groups: dict[tuple, list[Vignette]] = {}
    for v in VIGNETTES:
        groups.setdefault(tuple(sorted(v.policy.items())), []).append(v)
    out: dict[str, dict] = {}
    for policy, chosen in groups.items():
        got = engine.assess_many([v.episode for v in chosen], Policy(**dict(policy)))
        out.update({v.id: a for v, a in zip(chosen, got, strict=True)})
    return out


@pytest.mark.parametrize("v", VIGNETTES, ids=[v.id for v in VIGNETTES])
def test_vignette(v: Vignette, engine: Engine, assessed: dict[str, dict]) -> None:
    check(v, assessed[v.id], engine.name)


def test_there_are_enough_vignettes_and_each_cites_a_recommendation() -> None:
    assert len(VIGNETTES) >= 40
    assert all(v.recommendation for v in VIGNETTES)


def test_every_outcome_and_boundary_is_covered() -> None:
    decisions = {v.expect["decision"] for v in VIGNETTES}
    assert decisions == {"offer", "continue", "stop", "do_not_offer", "needs_information"}
    days = {
        v.expect.get("gestation", {}).get("days") for v in VIGNETTES if v.expect.get("gestation")
    }
    assert {111, 112} <= days


def test_every_recommendation_cites_number_and_version() -> None:
    for v in VIGNETTES:
        a = assess(v.episode, Policy(**v.policy))
        p = a["progesterone"]
        cited = {c["number"] for c in p["citations"]}
        assert set(p["recommendations"]) <= cited
        for c in p["citations"]:
            assert c["version"] == a["guideline"]["version"] and c["guideline"] == "NG126"
            assert c["in_force_from"] == a["guideline"]["in_force_from"]
            assert c["in_force_to"] == a["guideline"]["in_force_to"]
