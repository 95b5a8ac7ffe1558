"""Records coded as real systems code them (UK primary care, Synthea, dm+d) read as the facts
they are: every code of a value set, not only the examples (issue 11)."""

from __future__ import annotations

import pytest

from earlypath import assess, parse_episode
from earlypath.fhir import map_resources
from earlypath.fhir.medication_request import is_progesterone_order
from earlypath.fhir.terminology import load_value_sets
from tests.integration.fhir_data import (
    LOINC,
    SNOMED,
    TODAY,
    bleeding,
    condition,
    day,
    eligible_resources,
    iup,
    lmp,
    observation,
    previous_miscarriage,
    progesterone_order,
)

DMD = "https://dmd.nhs.uk"


def read(resources):
    result = map_resources(resources, TODAY)
    parse_episode(result.episode)  # always within the contract
    return result


def decision(resources) -> str:
    return assess(read(resources).episode)["progesterone"]["decision"]


def codes_of(name: str) -> list[str]:
    return [c.code for c in load_value_sets()[name].codes if c.system == SNOMED]


def eligible_with_iup_3_days_ago():
    """Offer on its own: bleeding, a previous miscarriage, an LMP and an IUP 3 days ago."""
    return [previous_miscarriage(), bleeding(), lmp(), iup(day(-3))]


def test_the_baseline_is_an_offer():
    assert decision(eligible_with_iup_3_days_ago()) == "offer"


@pytest.mark.parametrize("code", ["79586000", "198620003", "9899009"])
def test_an_ectopic_today_coded_as_uk_lists_code_it_is_not_an_offer(code):
    resources = [*eligible_with_iup_3_days_ago(), condition("ect", code, day())]
    episode = read(resources).episode
    assert episode["scans"][-1] == {"date": day(), "location": "ectopic", "route": None}
    assert decision(resources) != "offer"


def test_an_ultrasound_confirming_an_ectopic_is_not_an_offer():
    finding = observation("us", SNOMED, "370382007", day())
    resources = [*eligible_with_iup_3_days_ago(), finding]
    assert read(resources).episode["scans"][-1]["location"] == "ectopic"
    assert decision(resources) != "offer"


@pytest.mark.parametrize("code", codes_of("ectopic_pregnancy"))
def test_every_ectopic_code_ends_an_earlier_intrauterine_scan(code):
    resources = [*eligible_with_iup_3_days_ago(), condition("ect", code, day())]
    assert read(resources).episode["scans"][-1]["location"] == "ectopic", code


@pytest.mark.parametrize("code", ["156073000", "156072005", "35999006"])
def test_a_miscarriage_today_is_not_an_offer(code):
    resources = [*eligible_with_iup_3_days_ago(), condition("mc-now", code, day())]
    assert read(resources).episode["miscarriage_diagnosed"] is True
    assert decision(resources) != "offer"


@pytest.mark.parametrize("code", codes_of("miscarriage_event"))
def test_every_miscarriage_code_counts_before_and_is_diagnosed_now(code):
    before = read([lmp(), condition("mc", code, "2022-06-01")]).episode
    assert before["previous_miscarriages"] == 1, code
    now = read([lmp(), condition("mc", code, day())]).episode
    assert now["miscarriage_diagnosed"] is True, code


@pytest.mark.parametrize("code", ["19169002", "85116003"])
def test_a_previous_miscarriage_coded_by_trimester_counts(code):
    resources = [condition("mc1", code, "2022-06-01"), bleeding(), lmp(), iup()]
    assert read(resources).episode["previous_miscarriages"] == 1
    assert decision(resources) == "offer"


@pytest.mark.parametrize(
    ("code", "at_least"), [("609442008", 2), ("134781000119106", 2), ("199088001", 2)]
)
def test_recurrent_miscarriage_codes_give_at_least_two(code, at_least):
    episode = read([condition("h", code, None), lmp()]).episode
    assert episode["previous_miscarriages"] == at_least


@pytest.mark.parametrize("code", ["723665008", "1323351000000104", "25825004"])
def test_bleeding_in_early_pregnancy_codes_are_bleeding(code):
    resources = [previous_miscarriage(), condition("bleed", code, day(-1)), lmp(), iup()]
    assert read(resources).episode["vaginal_bleeding"] is True
    assert decision(resources) == "offer"


def test_an_lmp_coded_as_uk_gp_systems_code_it_is_dated():
    gp_lmp = observation("lmp", SNOMED, "161713000", day(), valueDateTime="2024-01-15")
    result = read([gp_lmp])
    assert result.episode["lmp"] == "2024-01-15"
    assert result.problems == []


def test_an_lmp_code_without_a_date_value_stays_undated_and_is_reported():
    # Whether a GP system's event date is the LMP itself could not be verified: not guessed.
    gp_lmp = observation("lmp", SNOMED, "161713000", "2024-01-15")
    result = read([gp_lmp])
    assert result.episode["lmp"] is None
    assert any("LMP has no full date" in p.message for p in result.problems)


def vmp_order(status: str = "active", **medication) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": "rx",
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/pat-SECRET-4417"},
        "authoredOn": day(-2),
        "medicationCodeableConcept": medication,
    }


def test_a_progesterone_order_coded_only_by_its_dmd_vmp_is_recognised():
    coded = vmp_order(coding=[{"system": DMD, "code": "39708911000001106"}])
    assert read([*eligible_resources(), coded]).episode["on_progesterone"] is True
    assert is_progesterone_order({**coded, "status": "draft"})


def test_an_endometrin_order_is_recognised():
    named = vmp_order(text="Endometrin 100 mg vaginal insert")
    assert read([*eligible_resources(), named]).episode["on_progesterone"] is True
    assert is_progesterone_order(progesterone_order(text="ENDOMETRIN vaginal insert"))


def fhr(rid: str, on: str, **value) -> dict:
    return observation(rid, LOINC, "11948-7", on, **value)


def rate(bpm: float, **extra) -> dict:
    return {"valueQuantity": {"value": bpm, "unit": "/min", **extra}}


@pytest.mark.parametrize(("bpm", "seen"), [(152, True), (0, False)])
def test_a_fetal_heart_rate_says_whether_a_heartbeat_was_seen(bpm, seen):
    result = read([lmp(), iup(), fhr("fh", day(), **rate(bpm))])
    assert result.episode["scans"] == [
        {"date": day(), "location": "intrauterine", "route": None, "fetal_heartbeat": seen}
    ]


def test_a_fetal_heart_rate_given_as_a_bound_is_not_read_and_is_reported():
    result = read([lmp(), iup(), fhr("fh", day(), **rate(100, comparator=">"))])
    assert "fetal_heartbeat" not in result.episode["scans"][0]
    assert any(p.field == "Observation/fh" for p in result.problems)


def test_present_and_absent_values_of_a_fetal_heart_observation():
    absent = {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "2667000"}]}}
    result = read([lmp(), iup(), fhr("fh", day(), **absent)])
    assert result.episode["scans"][0]["fetal_heartbeat"] is False
    result = read([lmp(), iup(), fhr("fh", day(), valueBoolean=True)])
    assert result.episode["scans"][0]["fetal_heartbeat"] is True


def test_a_viable_pregnancy_finding_is_a_heartbeat_seen():
    result = read([lmp(), iup(), condition("v", "237241002", day())])
    assert result.episode["scans"][0]["fetal_heartbeat"] is True


def test_uncertain_viability_leaves_the_heartbeat_unknown_and_says_so():
    result = read([lmp(), iup(), fhr("fh", day(), **rate(150)), condition("u", "281307002", day())])
    assert "fetal_heartbeat" not in result.episode["scans"][0]
    assert any("uncertain" in p.message for p in result.problems)


def test_a_heartbeat_seen_and_not_seen_on_one_day_is_unknown():
    result = read([lmp(), iup(), fhr("a", day(), **rate(150)), fhr("b", day(), **rate(0))])
    assert "fetal_heartbeat" not in result.episode["scans"][0]
    assert any("disagree" in p.message for p in result.problems)


def test_a_heartbeat_on_record_stops_the_rescan_advice():
    without = assess(read(eligible_resources()).episode)["progesterone"]
    with_heart = assess(read([*eligible_resources(), fhr("fh", day(), **rate(150))]).episode)
    advice = [a["id"] for a in with_heart["progesterone"]["advice"]]
    assert "rescan_for_heartbeat" in [a["id"] for a in without["advice"]]
    assert "rescan_for_heartbeat" not in advice


@pytest.mark.parametrize(("value", "unit", "mm"), [(1.2, "cm", 12.0), (18, "mm", 18.0)])
def test_a_mean_sac_diameter_is_read_in_mm(value, unit, mm):
    msd = observation(
        "msd", LOINC, "11850-5", day(), valueQuantity={"value": value, "unit": unit, "code": unit}
    )
    result = read([lmp(), iup(), msd])
    assert result.episode["scans"][0]["msd_mm"] == mm
    assert result.problems == []


def test_a_miscarriage_recorded_as_an_observation_is_read_as_a_condition_is():
    # UK GP systems export most coded entries as Observations, not Conditions.
    now = observation("mc-now", SNOMED, "156073000", day())
    resources = [*eligible_with_iup_3_days_ago(), now]
    assert read(resources).episode["miscarriage_diagnosed"] is True
    assert decision(resources) != "offer"
    before = observation("mc1", SNOMED, "19169002", "2022-06-01")
    resources = [before, bleeding(), lmp(), iup()]
    assert read(resources).episode["previous_miscarriages"] == 1
    assert decision(resources) == "offer"


def test_a_history_observation_valued_absent_is_a_recorded_no():
    absent = {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "2667000"}]}}
    denied = observation("h", SNOMED, "161744009", None, **absent)
    assert read([denied, lmp()]).episode["previous_miscarriages"] == 0
    unclear = observation("h", SNOMED, "161744009", None, valueString="query")
    result = read([unclear, lmp()])
    assert result.episode["previous_miscarriages"] is None
    assert any(p.field == "Observation/h" for p in result.problems)


# Sets of answers, read only in an Observation's value (never as the code of a record): a code
# may be both an answer and a fact ("Pregnant" answers 82810-3 and is a pregnancy finding).
ANSWER_SETS = {"present", "absent", "negative", "pregnancy_status_pregnant"}
# Sets that only say a pregnancy is current (who is judged, whether patient-view speaks): a code
# there may also be a fact ("uncertain viability" is both evidence of a pregnancy and a finding).
EVIDENCE_SETS = {"pregnancy_condition", "pregnancy_status", "gestational_age", "hcg"}


def test_no_code_means_two_facts():
    seen: dict[tuple[str, str], str] = {}
    for name, value_set in load_value_sets(None).items():
        if name in ANSWER_SETS | EVIDENCE_SETS:
            continue
        for code in value_set.codes:
            key = (code.system, code.code)
            assert key not in seen, (key, seen.get(key), name)
            seen[key] = name
