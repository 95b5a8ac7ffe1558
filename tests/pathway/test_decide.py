"""The decision-only fast path (`decide`, `CompiledTable.decide`) gives exactly the decision,
recommendations and missing fields of the full evaluation, with no trace (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath import InputError, assess
from earlypath.engines.python import decide
from earlypath.engines.tables import compile_table
from earlypath.facts import episode_facts
from earlypath.guideline.pathway import PathwayPolicy, sections
from earlypath.guideline.progesterone import progesterone_table
from earlypath.guideline.versions import BY_VERSION
from earlypath.model import parse_episode
from earlypath.policy import Policy
from tests.pathway.strategies import episodes
from tests.spec.vignettes import load_vignettes

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TABLES = [
    table
    for version in BY_VERSION
    for rule in ("ng126-2012-2023", "rewrite-unverified")
    for section in sections()
    for table in section.tables(version, PathwayPolicy(rule)).values()  # type: ignore[arg-type]
] + [progesterone_table(v, day) for v in BY_VERSION for day in (112, 118)]
POLICIES = [Policy(), Policy(stop_at="16+6", preferred_product="cyclogest")]


def check_tables(facts: dict[str, Any]) -> None:
    for table in TABLES:
        compiled = compile_table(table)
        full = compiled.evaluate(facts)
        assert compiled.decide(facts) == (full.outcome, full.recommendations, full.missing)


def test_every_table_decides_as_it_evaluates_on_every_vignette() -> None:
    for v in load_vignettes():
        check_tables(episode_facts(parse_episode(v.episode)))


@SETTINGS
@given(episodes())
def test_every_table_decides_as_it_evaluates_on_generated_episodes(episode: dict) -> None:
    check_tables(episode_facts(parse_episode(episode)))


@SETTINGS
@given(episodes(), st.sampled_from(POLICIES))
def test_decide_equals_the_progesterone_section_of_the_assessment(
    episode: dict, policy: Policy
) -> None:
    full = assess(episode, policy)
    got = decide(episode, policy)
    p = full["progesterone"]
    assert got.decision == p["decision"]
    assert list(got.recommendations) == p["recommendations"]
    assert list(got.missing) == p["missing"]
    assert got.guideline_version == full["guideline"]["version"]
    assert got.gestation_days == (full["gestation"]["days"] if full["gestation"] else None)


def test_decide_refuses_bad_input_naming_the_field() -> None:
    with pytest.raises(InputError) as error:
        decide({"assessed_on": "2024-03-01", "previous_miscarriages": "two"})
    assert [p.field for p in error.value.problems] == ["previous_miscarriages"]


def test_decide_never_offers_without_an_intrauterine_pregnancy_on_scan() -> None:
    episode = {
        "assessed_on": "2024-03-01",
        "lmp": "2024-01-10",
        "vaginal_bleeding": True,
        "previous_miscarriages": 1,
        "scans": [],
    }
    got = decide(episode)
    assert got.decision != "offer"
    assert got.decision == assess(episode)["progesterone"]["decision"]
