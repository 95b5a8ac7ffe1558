"""The reference engine evaluates the pathway tables through precompiled plans: they must give
exactly what `evaluate_table` (the reference semantics) and its trace give."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.engines.sections import _evaluate, _plan
from earlypath.engines.tables import evaluate_table
from earlypath.facts import episode_facts
from earlypath.guideline.pathway import PathwayPolicy, sections
from earlypath.guideline.progesterone import progesterone_table
from earlypath.guideline.versions import BY_VERSION
from earlypath.model import parse_episode
from tests.pathway.strategies import episodes
from tests.pathway.vignettes import load_pathway_vignettes

TABLES = [
    table
    for version in BY_VERSION
    for rule in ("ng126-2012-2023", "rewrite-unverified")
    for section in sections()
    for table in section.tables(version, PathwayPolicy(rule)).values()  # type: ignore[arg-type]
] + [progesterone_table(v, 112) for v in BY_VERSION]
PLANS = [(table, _plan(table)) for table in TABLES]


def check(facts: dict[str, Any]) -> None:
    for table, plan in PLANS:
        expected = evaluate_table(table, facts)
        got, trace = _evaluate(plan, facts)
        assert got == expected, table.topic
        assert trace == [r.trace(facts) for r in expected.results], table.topic


def test_fast_path_equals_reference_semantics_on_every_vignette() -> None:
    for v in load_pathway_vignettes():
        check(episode_facts(parse_episode(v.episode)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(episodes())
def test_fast_path_equals_reference_semantics_on_generated_episodes(episode: dict) -> None:
    check(episode_facts(parse_episode(episode)))


@given(st.just(None))
def test_fast_path_covers_a_table_that_no_verdict_completes(_: None) -> None:
    # The ectopic table has no catch-all verdict: a heterotopic case exhausts the branch.
    facts = episode_facts(
        parse_episode(
            {
                "assessed_on": "2024-03-08",
                "scans": [
                    {"date": "2024-03-01", "location": "intrauterine"},
                    {"date": "2024-03-08", "location": "ectopic", "fetal_heartbeat": False},
                ],
                "hcg": [{"taken_at": "2024-03-08T08:00:00", "iu_per_l": 1200}],
                "pain": "mild",
                "haemodynamically_unstable": False,
                "adnexal_mass_mm": 20.0,
                "able_to_return_for_follow_up": True,
            }
        )
    )
    check(facts)
