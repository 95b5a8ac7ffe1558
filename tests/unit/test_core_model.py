"""The input contract: bad input gets a clear error naming the field, never a silent default."""

from __future__ import annotations

import json

import pytest

from earlypath import InputError, episode_json_schema, parse_episode, parse_episode_json

BASE = {
    "assessed_on": "2024-03-04",
    "previous_miscarriages": 1,
    "vaginal_bleeding": True,
    "lmp": "2024-01-15",
    "scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": 9.5}],
}


def problems(changes: dict) -> dict[str, str]:
    data = {**BASE, **changes}
    with pytest.raises(InputError) as caught:
        parse_episode(data)
    return {p.field: p.message for p in caught.value.problems}


def test_valid_episode_parses_with_unknowns_as_none() -> None:
    e = parse_episode({"assessed_on": "2024-03-04"})
    assert e.previous_miscarriages is None and e.vaginal_bleeding is None and e.scans == []


def test_misspelt_field_is_rejected_by_name() -> None:
    found = problems({"vaginal_bleding": True})
    assert "vaginal_bleding" in found and "misspelt" in found["vaginal_bleding"]


def test_misspelt_scan_field_is_rejected_by_path() -> None:
    found = problems({"scans": [{"date": "2024-03-04", "location": "intrauterine", "crl": 9}]})
    assert "scans[0].crl" in found


def test_assessed_on_is_required() -> None:
    data = dict(BASE)
    del data["assessed_on"]
    with pytest.raises(InputError) as caught:
        parse_episode(data)
    assert caught.value.problems[0].field == "assessed_on"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"previous_miscarriages": -1}, "previous_miscarriages"),
        ({"previous_miscarriages": 1.5}, "previous_miscarriages"),
        ({"previous_miscarriages": "2"}, "previous_miscarriages"),
        ({"vaginal_bleeding": "yes"}, "vaginal_bleeding"),
        ({"assessed_on": "2024-02-30"}, "assessed_on"),
        ({"assessed_on": 1709510400}, "assessed_on"),
        ({"lmp": "2024-03-05"}, "lmp"),
        ({"lmp": "2023-04-01"}, "lmp"),
        ({"scans": [{"date": "2024-03-05", "location": "intrauterine"}]}, "scans[0].date"),
        ({"scans": [{"date": "2024-01-01", "location": "intrauterine"}]}, "scans[0].date"),
        ({"scans": [{"date": "2024-03-04", "location": "womb"}]}, "scans[0].location"),
        (
            {"scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": 121}]},
            "scans[0].crl_mm",
        ),
        (
            {"scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": -0.1}]},
            "scans[0].crl_mm",
        ),
        (
            {"scans": [{"date": "2024-03-04", "location": "intrauterine", "msd_mm": 500}]},
            "scans[0].msd_mm",
        ),
        (
            {"scans": [{"date": "2024-03-04", "location": "intrauterine", "route": "oral"}]},
            "scans[0].route",
        ),
        (
            {
                "scans": [
                    {
                        "date": "2024-03-04",
                        "location": "intrauterine",
                        "fetal_pole": False,
                        "fetal_heartbeat": True,
                    }
                ]
            },
            "scans[0].fetal_pole",
        ),
        (
            {"scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": True}]},
            "scans[0].crl_mm",
        ),
        (
            {"scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": "9.5"}]},
            "scans[0].crl_mm",
        ),
        ({"allergies": "peanut"}, "allergies"),
        # null is Unknown since stop 25 (a loss dated to a month that may be this pregnancy's)
        ({"miscarriage_diagnosed": "yes"}, "miscarriage_diagnosed"),
    ],
)
def test_impossible_values_name_their_field(changes: dict, field: str) -> None:
    assert field in problems(changes)


def test_all_problems_are_reported_at_once() -> None:
    found = problems({"previous_miscarriages": -2, "lmp": "2025-01-01", "typo": 1})
    assert {"previous_miscarriages", "typo"} <= set(found)


def test_lmp_limit_is_45_weeks() -> None:
    parse_episode({**BASE, "lmp": "2023-04-24", "scans": []})  # exactly 315 days
    assert "lmp" in problems({"lmp": "2023-04-23", "scans": []})


def test_json_text_errors() -> None:
    with pytest.raises(InputError) as caught:
        parse_episode_json("{not json")
    assert caught.value.problems[0].field == "(episode)"
    with pytest.raises(InputError):
        parse_episode([1, 2])  # type: ignore[arg-type]


def test_allergy_recognition_is_case_insensitive() -> None:
    assert parse_episode({**BASE, "allergies": ["PEANUTS"]}).peanut_or_soya_allergy
    assert parse_episode({**BASE, "allergies": ["Soy"]}).peanut_or_soya_allergy
    assert not parse_episode({**BASE, "allergies": ["penicillin"]}).peanut_or_soya_allergy


def test_schema_names_every_contract_field_and_forbids_extras() -> None:
    schema = episode_json_schema()
    for name in (
        "assessed_on",
        "guideline_version",
        "previous_miscarriages",
        "vaginal_bleeding",
        "lmp",
        "scans",
        "miscarriage_diagnosed",
        "on_progesterone",
        "allergies",
    ):
        assert name in schema["properties"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["assessed_on"]
    json.dumps(schema)


def test_unknown_guideline_version_names_the_field() -> None:
    from earlypath import assess

    with pytest.raises(InputError) as caught:
        assess({**BASE, "guideline_version": "2030-01-01"})
    assert caught.value.problems[0].field == "guideline_version"


def test_date_before_ng126_names_assessed_on() -> None:
    from earlypath import assess

    with pytest.raises(InputError) as caught:
        assess({"assessed_on": "2018-01-01"})
    assert caught.value.problems[0].field == "assessed_on"
