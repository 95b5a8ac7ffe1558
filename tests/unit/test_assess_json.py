"""`assess_json` (the JSON text path of the CLI, issue 16) writes exactly the bytes of
``json.dumps(assess(...), ensure_ascii=False, separators=(",", ":"))``: the constant parts it
writes once per version and policy, and the floats orjson writes in another form, included."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath import assess, parse_episode_json
from earlypath.engines.python import assess_json, section_names
from earlypath.errors import InputError
from earlypath.guideline.pathway import PathwayPolicy
from earlypath.policy import Policy
from tests.pathway.strategies import episodes

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from bench_assess import generate  # noqa: E402

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POLICIES = (
    (Policy(), PathwayPolicy()),
    (Policy(stop_at="16+6", preferred_product="cyclogest"), PathwayPolicy("rewrite-unverified")),
)


def reference(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def same_bytes(episode: Any, policies: tuple[Policy, PathwayPolicy], sections=None) -> None:
    try:
        want = reference(assess(episode, *policies, sections=sections))
    except InputError as error:
        with pytest.raises(InputError) as caught:
            assess_json(episode, *policies, sections=sections)
        assert caught.value.problems == error.problems
        return
    assert assess_json(episode, *policies, sections=sections) == want


# Measurements of every size, the tiny ones (orjson writes 1e-05 as 0.00001) most of all.
measurements = st.one_of(
    st.floats(min_value=1e-10, max_value=1e-3),
    st.floats(min_value=1e-3, max_value=1e6),
    st.sampled_from([1e-05, 1e-07, 0.0001, 2.5e-10, 9.999e-05]),
)


@st.composite
def episodes_with_any_measurements(draw: st.DrawFn) -> dict[str, Any]:
    episode = draw(episodes())
    for scan in episode.get("scans") or []:
        for field in ("crl_mm", "msd_mm"):
            if field in scan and draw(st.booleans()):
                scan[field] = draw(measurements)
    for sample in episode.get("hcg") or []:
        if draw(st.booleans()):
            sample["iu_per_l"] = draw(measurements)
    if draw(st.booleans()):
        episode["adnexal_mass_mm"] = draw(measurements)
    return episode


@SETTINGS
@given(episodes_with_any_measurements(), st.sampled_from(POLICIES))
def test_generated_episodes_give_the_reference_bytes(episode: dict, policies) -> None:
    same_bytes(episode, policies)


@SETTINGS
@given(
    episodes(),
    st.sampled_from(POLICIES),
    st.lists(st.sampled_from(section_names()), max_size=3, unique=True),
)
def test_some_sections_give_the_reference_bytes(episode: dict, policies, sections) -> None:
    same_bytes(episode, policies, sections)


def test_the_benchmark_episodes_give_the_reference_bytes() -> None:
    for text in generate(1000, seed=11):
        episode = parse_episode_json(text)
        for policies in POLICIES:
            same_bytes(episode, policies)


def test_tiny_measurements_are_written_as_json_dumps_writes_them() -> None:
    for tiny in (0.00001, 0.0000012, 0.000099, 1e-9, 2.5e-10):
        episode = {
            "assessed_on": "2024-03-01",
            "lmp": "2024-01-10",
            "scans": [{"date": "2024-02-28", "location": "unknown", "msd_mm": tiny}],
            "hcg": [
                {"taken_at": "2024-02-20T08:00:00", "iu_per_l": tiny},
                {"taken_at": "2024-02-22T09:00:00", "iu_per_l": 1500},
            ],
        }
        text = assess_json(episode)
        assert text == reference(assess(episode))
        assert repr(tiny).encode() in text  # e.g. 1e-05, where orjson alone writes 0.00001


def test_editing_an_assessment_changes_no_later_answer() -> None:
    # The JSON text path shares its constant parts between answers; the data path hands out
    # copies, so a caller editing its assessment changes neither path's next answer.
    text = generate(50, seed=2)
    episodes_ = [parse_episode_json(t) for t in text]
    before = [assess_json(e) for e in episodes_]
    for episode in episodes_:
        data = assess(episode)
        data["policy"]["stop_at"]["value"] = "edited"
        data["guideline"]["url"] = "edited"
        for name in section_names():
            for citation in data[name]["citations"]:
                citation["summary"] = "edited"
            data[name]["citations"].append({"edited": True})
    assert [assess_json(e) for e in episodes_] == before
    assert [reference(assess(e)) for e in episodes_] == before


def test_the_rules_read_each_fact_with_the_type_the_facts_declare() -> None:
    # A trace shows a bool, str or int fact as it is, without converting it (issue 16): that
    # holds only if no rule reads a date or float fact under another type.
    from earlypath.engines.python import _parts
    from earlypath.engines.tables import _compiled
    from earlypath.facts import ALL_FACTS
    from earlypath.guideline.versions import VERSIONS
    from earlypath.rules.ir import facts_in

    declared = {f.name: f.type for f in ALL_FACTS}
    for version in VERSIONS:
        for policies in POLICIES:
            _parts(version, *policies)
    read = [
        f
        for table in list(_compiled.values())
        for _, _, verdicts in table.branches
        for compiled in verdicts
        for criterion in compiled.criteria
        for f in facts_in(criterion.criterion.expr)
    ]
    assert read
    assert [f for f in read if declared.get(f.name) != f.type] == []


def test_a_kept_section_text_is_never_given_for_other_advice() -> None:
    # The JSON text path keeps a section's text by its trace texts and its advice: these two
    # anti-D answers have the same trace and differ only in the advice (a second opinion on
    # the missing heartbeat confirms the miscarriage: NG126 1.4.10, an MSD of 25 mm with no
    # pole; with a pole and no CRL whether it may is Unknown, and the advice is given: stop 44).
    # Either order gives the reference bytes.
    base = {
        "assessed_on": "2021-11-20",
        "lmp": "2021-09-27",
        "miscarriage_diagnosed": True,
        "miscarriage_type": "missed",
        "management": "surgical",
        "rhesus_d": "negative",
        "scans": [
            {
                "date": "2021-09-27",
                "route": "transvaginal",
                "location": "intrauterine",
                "fetal_pole": False,
                "fetal_heartbeat": False,
                "msd_mm": 25.0,
            }
        ],
    }
    confirmed = {**base, "second_opinion_no_heartbeat": True}
    not_yet = {**base, "second_opinion_no_heartbeat": False}
    advice = [[a["id"] for a in assess(e)["anti_d"]["advice"]] for e in (confirmed, not_yet)]
    assert advice == [[], ["miscarriage_not_yet_confirmed"]]
    for episodes_in_turn in ((confirmed, not_yet, confirmed), (not_yet, confirmed, not_yet)):
        for episode in episodes_in_turn:
            assert assess_json(episode, sections=("anti_d",)) == reference(
                assess(episode, sections=("anti_d",))
            )
