"""The inputs and policy settings added for the NG126 clinical review (issue 13): in the JSON
Schema, validated naming the field, null as Unknown, and the settings named in the output."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from earlypath import InputError, assess, episode_json_schema, parse_episode
from earlypath.facts import episode_facts
from earlypath.guideline.pathway import PathwayPolicy

BASE: dict[str, Any] = {"assessed_on": "2024-03-06", "lmp": "2024-01-25"}
NEW_FIELDS = ("heavy_bleeding", "previous_ectopic", "ectopic_ruptured")


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputError) as error:
        parse_episode(data)
    return {p.field: p.message for p in error.value.problems}


@pytest.mark.parametrize("field", NEW_FIELDS)
@pytest.mark.parametrize("bad", ["yes", 1, 0, "true", [True]])
def test_a_new_field_that_is_not_true_false_or_null_is_rejected_naming_it(
    field: str, bad: Any
) -> None:
    assert field in problems({**BASE, field: bad})


def test_heavy_bleeding_without_bleeding_is_rejected_naming_the_field() -> None:
    found = problems({**BASE, "vaginal_bleeding": False, "heavy_bleeding": True})
    assert found == {"heavy_bleeding": "is true but vaginal_bleeding is false"}


@pytest.mark.parametrize("field", NEW_FIELDS)
def test_null_or_absent_is_unknown(field: str) -> None:
    assert episode_facts(parse_episode({**BASE, field: None}))[field] is None
    assert episode_facts(parse_episode(BASE))[field] is None
    assert episode_facts(parse_episode({**BASE, field: False}))[field] is False


def test_the_json_schema_lists_the_new_fields_as_true_false_or_null() -> None:
    properties = episode_json_schema()["properties"]
    for field in NEW_FIELDS:
        types = {option.get("type") for option in properties[field]["anyOf"]}
        assert types == {"boolean", "null"}, field
        assert properties[field]["description"]


def test_the_schema_command_prints_the_new_fields() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "earlypath.cli", "schema"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-500:]
    properties = json.loads(out.stdout)["properties"]
    assert set(NEW_FIELDS) <= set(properties)


def test_the_hcg_policy_settings_are_named_in_the_output_with_default_and_reason() -> None:
    out = assess(BASE)["pathway_policy"]
    assert out["hcg_pair_max_hours"]["value"] == 72.0
    assert "1.4.27" in out["hcg_pair_max_hours"]["reason"]
    assert out["hcg_max_age_days"]["value"] == 2
    assert "current" in out["hcg_max_age_days"]["reason"]
    changed = assess(BASE, pathway_policy=PathwayPolicy(hcg_pair_max_hours=96))
    assert changed["pathway_policy"]["hcg_pair_max_hours"]["value"] == 96


@pytest.mark.parametrize(
    "settings",
    [
        {"hcg_pair_max_hours": 47},
        {"hcg_pair_max_hours": 200},
        {"hcg_pair_max_hours": "72"},
        {"hcg_pair_max_hours": True},
        {"hcg_max_age_days": -1},
        {"hcg_max_age_days": 8},
        {"hcg_max_age_days": 2.5},
    ],
)
def test_bad_policy_settings_are_refused_naming_the_setting(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(settings))):
        PathwayPolicy(**settings)


def test_a_second_opinion_needs_a_scan_without_a_heartbeat() -> None:
    assert problems({**BASE, "second_opinion_no_heartbeat": True}) == {
        "second_opinion_no_heartbeat": "is true but no scan is recorded"
    }
    scan = {"date": "2024-03-06", "location": "intrauterine", "fetal_heartbeat": True}
    found = problems({**BASE, "scans": [scan], "second_opinion_no_heartbeat": True})
    assert "second_opinion_no_heartbeat" in found
    assert "second_opinion_no_heartbeat" in problems({**BASE, "second_opinion_no_heartbeat": None})
    assert "second_opinion_no_heartbeat" in episode_json_schema()["properties"]
