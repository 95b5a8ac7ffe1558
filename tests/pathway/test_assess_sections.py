"""`assess(..., sections=...)`: a section computed alone equals the same section of the whole
assessment, over generated episodes and both policy settings (issue 16)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath import assess
from earlypath.engines.python import section_names
from earlypath.guideline.pathway import PathwayPolicy
from earlypath.policy import Policy
from tests.pathway.strategies import episodes

EXAMPLES = int(os.environ.get("EARLYPATH_PATHWAY_EXAMPLES", "200"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
HEADER = ["earlypath_version", "assessed_on", "guideline", "policy", "gestation"]
POLICIES = [
    (Policy(), PathwayPolicy()),
    (Policy(stop_at="16+6", preferred_product="cyclogest"), PathwayPolicy("rewrite-unverified")),
]


@SETTINGS
@given(episodes(), st.sampled_from(POLICIES))
def test_the_progesterone_section_alone_equals_the_one_of_the_whole_assessment(
    episode: dict, policies: tuple[Policy, PathwayPolicy]
) -> None:
    full = assess(episode, *policies)
    alone = assess(episode, *policies, sections=("progesterone",))
    assert list(alone) == [*HEADER, "progesterone"]
    assert alone["progesterone"] == full["progesterone"]
    assert {k: alone[k] for k in HEADER} == {k: full[k] for k in HEADER}


@SETTINGS
@given(
    episodes(),
    st.sampled_from(POLICIES),
    st.lists(st.sampled_from(section_names()), min_size=1, unique=True),
)
def test_any_subset_of_sections_equals_those_sections_of_the_whole_assessment(
    episode: dict, policies: tuple[Policy, PathwayPolicy], asked: list[str]
) -> None:
    full = assess(episode, *policies)
    subset = assess(episode, *policies, sections=asked)
    pathway = [name for name in section_names() if name in asked and name != "progesterone"]
    expected_keys = [
        *HEADER,
        *(["progesterone"] if "progesterone" in asked else []),
        *(["pathway_policy"] if pathway else []),
        *pathway,
    ]
    assert list(subset) == expected_keys  # output order, whatever order they were asked in
    for key in expected_keys:
        assert subset[key] == full[key], key


def test_the_default_is_every_section_in_output_order() -> None:
    episode = {"assessed_on": "2024-03-01", "lmp": "2024-01-10"}
    assert list(assess(episode)) == list(assess(episode, sections=section_names()))
    assert [k for k in assess(episode) if k in section_names()] == list(section_names())


def test_an_unknown_section_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="sections: unknown section.*'progestrone'"):
        assess({"assessed_on": "2024-03-01"}, sections=("progestrone",))
    with pytest.raises(ValueError, match="sections: give a list of section names"):
        assess({"assessed_on": "2024-03-01"}, sections="progesterone")


def test_editing_an_assessment_never_changes_the_next_one() -> None:
    # The constant parts are cached: an assessment must hand out copies, never the cache.
    episode = {"assessed_on": "2024-03-01", "lmp": "2024-01-10", "vaginal_bleeding": True}
    first = assess(episode)
    expected = assess(episode)
    first["policy"]["stop_at"]["value"] = "edited"
    first["guideline"]["version"] = "edited"
    first["pathway_policy"]["anti_d_rule"]["value"] = "edited"
    for citation in first["progesterone"]["citations"]:
        citation["number"] = "edited"
    for name in section_names():
        for citation in first[name]["citations"]:
            citation["summary"] = "edited"
    assert assess(episode) == expected
