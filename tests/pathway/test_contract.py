"""The pathway fields of the input contract, the flat facts they become, and the output shape."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from earlypath import InputError, assess, episode_json_schema, parse_episode
from earlypath.facts import ALL_FACTS, choose_hcg_pair, episode_facts
from earlypath.model.episode import HcgSample

BASE: dict[str, Any] = {"assessed_on": "2024-03-06", "lmp": "2024-01-25"}
EXAMPLES = sorted((Path(__file__).parents[2] / "earlypath" / "examples").glob("*.json"))


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputError) as error:
        parse_episode(data)
    return {p.field: p.message for p in error.value.problems}


def case(id: str, changes: dict[str, Any], field: str) -> Any:
    return pytest.param(changes, field, id=id)


def one_hcg(**sample: Any) -> dict[str, Any]:
    return {"hcg": [{"taken_at": "2024-03-05T09:00:00", "iu_per_l": 5, **sample}]}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        case("hcg-negative", one_hcg(iu_per_l=-1), "hcg[0].iu_per_l"),
        case("hcg-implausibly-high", one_hcg(iu_per_l=2e6), "hcg[0].iu_per_l"),
        case("hcg-boolean-refused", one_hcg(iu_per_l=True), "hcg[0].iu_per_l"),
        case("mass-boolean-refused", {"adnexal_mass_mm": True}, "adnexal_mass_mm"),
        case("hcg-units-field-refused", one_hcg(units="mIU/mL"), "hcg[0].units"),
        case(
            "hcg-taken-after-assessment-day",
            one_hcg(taken_at="2024-03-07T00:00:00"),
            "hcg[0].taken_at",
        ),
        case("hcg-time-as-number-refused", one_hcg(taken_at=1709715600), "hcg[0].taken_at"),
        case("hcg-taken-before-lmp", one_hcg(taken_at="2024-01-01T09:00:00"), "hcg[0].taken_at"),
        case("hcg-time-required", {"hcg": [{"iu_per_l": 5}]}, "hcg[0].taken_at"),
        case(
            "hcg-mixed-time-zones",
            {
                "hcg": [
                    {"taken_at": "2024-03-04T09:00:00", "iu_per_l": 5},
                    {"taken_at": "2024-03-06T09:00:00+00:00", "iu_per_l": 9},
                ]
            },
            "hcg",
        ),
        case("pain-unknown-word", {"pain": "severe"}, "pain"),
        case(
            "unstable-not-boolean",
            {"haemodynamically_unstable": "yes"},
            "haemodynamically_unstable",
        ),
        case("rhesus-unknown-word", {"rhesus_d": "neg"}, "rhesus_d"),
        case("mass-over-200mm", {"adnexal_mass_mm": 201}, "adnexal_mass_mm"),
        case("mass-negative", {"adnexal_mass_mm": -1}, "adnexal_mass_mm"),
        case(
            "return-not-boolean",
            {"able_to_return_for_follow_up": "true"},
            "able_to_return_for_follow_up",
        ),
        case(
            "miscarriage-type-unknown-word",
            {"miscarriage_type": "threatened", "miscarriage_diagnosed": True},
            "miscarriage_type",
        ),
        case(
            "miscarriage-type-without-diagnosis", {"miscarriage_type": "missed"}, "miscarriage_type"
        ),
        case("management-unknown-word", {"management": "laparoscopy"}, "management"),
        # stop 54 (HAZ-20 C20.71): another progestogen beside "not on progesterone" (the
        # table offered progesterone beside it, no review); the message names both fields
        case(
            "other-progestogen-not-on-progesterone",
            {"on_other_progestogen": True},
            "on_other_progestogen",
        ),
        case("extra-field-refused", {"pain_score": 3}, "pain_score"),
    ],
)
def test_impossible_or_unknown_pathway_values_are_rejected_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    assert field in problems({**BASE, **changes})


def test_another_progestogen_is_accepted_beside_progesterone_unknown_or_taken() -> None:
    # the refusal names both fields; on_progesterone null (review) or true is accepted
    message = problems({**BASE, "on_other_progestogen": True, "on_progesterone": False})[
        "on_other_progestogen"
    ]
    assert "on_progesterone is false" in message
    for taking in (None, True):
        parse_episode({**BASE, "on_other_progestogen": True, "on_progesterone": taking})


def test_hcg_taken_late_on_the_assessment_day_is_accepted() -> None:
    episode = parse_episode({**BASE, "hcg": [{"taken_at": "2024-03-06T23:59:59", "iu_per_l": 5}]})
    assert episode.hcg[0].iu_per_l == 5.0


def test_every_pathway_field_accepts_null_as_unknown() -> None:
    nulls = {
        "pain": None,
        "haemodynamically_unstable": None,
        "rhesus_d": None,
        "adnexal_mass_mm": None,
        "able_to_return_for_follow_up": None,
        "miscarriage_type": None,
        "management": None,
    }
    facts = episode_facts(parse_episode({**BASE, **nulls}))
    assert all(facts[name] is None for name in nulls)


def test_json_schema_lists_the_pathway_fields() -> None:
    properties = episode_json_schema()["properties"]
    for name in (
        "hcg",
        "pain",
        "haemodynamically_unstable",
        "rhesus_d",
        "adnexal_mass_mm",
        "able_to_return_for_follow_up",
        "miscarriage_type",
        "management",
    ):
        assert name in properties


def test_episode_facts_cover_exactly_the_declared_facts() -> None:
    facts = episode_facts(parse_episode(BASE))
    assert set(facts) == {f.name for f in ALL_FACTS}
    assert facts["hcg_count"] == 0 and facts["hcg_too_close"] is False


def _samples(*pairs: tuple[float, float]) -> list[HcgSample]:
    start = dt.datetime(2024, 3, 1, 9)
    return [HcgSample(taken_at=start + dt.timedelta(hours=h), iu_per_l=v) for h, v in pairs]


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ((0, 48), (0, 1)),
        ((0, 47.9), None),
        ((0, 24, 48), (0, 2)),
        ((0, 48, 72), (0, 1)),
        ((0, 48, 96), (1, 2)),
        ((0, 30, 80), (1, 2)),
        ((72, 0, 48), (1, 2)),
        ((0, 50, 60), (0, 1)),
    ],
)
def test_hcg_pair_is_closest_to_48_hours_never_under(hours: tuple, expected: tuple | None) -> None:
    assert choose_hcg_pair(_samples(*((h, 100.0) for h in hours))) == expected


def test_too_close_samples_are_flagged_as_a_fact() -> None:
    episode = parse_episode(
        {
            **BASE,
            "hcg": [
                {"taken_at": "2024-03-05T09:00", "iu_per_l": 5},
                {"taken_at": "2024-03-06T09:00", "iu_per_l": 9},
            ],
        }
    )
    facts = episode_facts(episode)
    assert facts["hcg_too_close"] is True and facts["hcg_first_iu"] is None


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_still_assess_and_gain_every_section(path: Path) -> None:
    assessment = assess(json.loads(path.read_text()))
    for key in (
        "earlypath_version",
        "assessed_on",
        "guideline",
        "policy",
        "gestation",
        "progesterone",
    ):
        assert key in assessment
    for key in (
        "pathway_policy",
        "referral",
        "scan_assessment",
        "hcg_assessment",
        "ectopic_management",
        "miscarriage_management",
        "anti_d",
    ):
        assert "decision" in assessment[key] or key == "pathway_policy"
    for key in (
        "referral",
        "scan_assessment",
        "hcg_assessment",
        "ectopic_management",
        "miscarriage_management",
        "anti_d",
    ):
        section = assessment[key]
        for citation in section["citations"]:
            assert citation["number_source"] in ("reference", "unverified")
            assert citation["version"] == assessment["guideline"]["version"]


def test_anti_d_policy_setting_is_named_in_the_output_with_its_default() -> None:
    from earlypath.guideline.pathway import PathwayPolicy

    out = assess(BASE, pathway_policy=PathwayPolicy("rewrite-unverified"))
    setting = out["pathway_policy"]["anti_d_rule"]
    assert setting["value"] == "rewrite-unverified" and setting["default"] == "ng126-2012-2023"
    assert "UNVERIFIED" in setting["reason"]
    with pytest.raises(ValueError):
        PathwayPolicy("2025")  # type: ignore[arg-type]
