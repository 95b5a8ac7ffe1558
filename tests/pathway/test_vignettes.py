"""The pathway's executable specification (referral, scans, hCG, ectopic, miscarriage, anti-D,
and the progesterone decision where they meet), on every engine (the ``engine`` fixture:
python, duckdb, spark). Section decisions (main, other tables, other sections) are checked on
every engine; the sections' other fields are the python engine's alone."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.guideline.pathway import PathwayPolicy
from tests.engine_fixture import Engine
from tests.pathway.vignettes import PathwayVignette, load_pathway_vignettes

VIGNETTES = load_pathway_vignettes()
SPECIAL = {"decision", "other_decisions", "sections"}


def lookup(section: dict[str, Any], path: str) -> Any:
    value: Any = section
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def check(v: PathwayVignette, assessment: dict[str, Any], engine: str = "python") -> None:
    section = assessment[v.topic]
    assert section["decision"] == v.expect["decision"], v.about or v.id
    for name, outcome in v.expect.get("other_decisions", {}).items():
        assert section["other_decisions"][name]["decision"] == outcome, name
    for topic, outcome in v.expect.get("sections", {}).items():
        assert assessment[topic]["decision"] == outcome, topic
    if engine != "python":
        return
    for path, expected in v.expect.items():
        if path in SPECIAL:
            continue
        actual = lookup(section, path)
        if path == "advice":
            actual = [a["id"] for a in actual]
        if path == "ratio" and isinstance(actual, float):
            assert actual == pytest.approx(expected), path
        else:
            assert actual == expected, path


@pytest.fixture(scope="module")
def assessed(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every vignette's assessment on ``engine``: one batch per pathway policy setting."""
    groups: dict[tuple, list[PathwayVignette]] = {}
    for v in VIGNETTES:
        groups.setdefault(tuple(sorted(v.pathway_policy.items())), []).append(v)
    out: dict[str, dict[str, Any]] = {}
    for policy, chosen in groups.items():
        episodes = [v.episode for v in chosen]
        got = engine.assess_many(episodes, pathway=PathwayPolicy(**dict(policy)))
        out.update({v.id: a for v, a in zip(chosen, got, strict=True)})
    return out


@pytest.mark.parametrize("v", VIGNETTES, ids=[v.id for v in VIGNETTES])
def test_vignette(v: PathwayVignette, engine: Engine, assessed: dict[str, dict[str, Any]]) -> None:
    check(v, assessed[v.id], engine.name)


def test_every_vignette_cites_a_recommendation_and_every_topic_is_covered() -> None:
    assert all(v.recommendation for v in VIGNETTES)
    assert {v.topic for v in VIGNETTES} == {
        "referral",
        "scan_assessment",
        "hcg_assessment",
        "ectopic_management",
        "miscarriage_management",
        "anti_d",
        "progesterone",
    }


def test_every_outcome_of_every_section_is_reached() -> None:
    from earlypath.guideline.pathway import sections

    reached: dict[str, set[str]] = {}
    for v in VIGNETTES:
        for topic, outcome in v.section_decisions.items():
            reached.setdefault(topic, set()).add(outcome)
    for section in sections():
        table = section.tables("2023-08-23", PathwayPolicy("rewrite-unverified"))["main"]
        assert set(table.outcomes) <= reached[section.name], section.name
