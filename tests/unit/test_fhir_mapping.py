"""FHIR R4 -> episode: unknown is never false; units; dates placed in or before this pregnancy."""

from __future__ import annotations

import datetime as dt

import pytest

from earlypath import assess, parse_episode
from earlypath.fhir import bundle_to_episode, load_codes, map_resources
from earlypath.fhir.terminology import load_value_sets
from tests.integration.fhir_data import (
    LOINC,
    SNOMED,
    TODAY,
    bleeding,
    bundle,
    condition,
    crl,
    eligible_resources,
    iup,
    lmp,
    observation,
    previous_miscarriage,
)


def episode_of(resources):
    episode, problems = bundle_to_episode(resources, TODAY)
    parse_episode(episode)  # always within the contract
    return episode, problems


def test_eligible_woman():
    episode, problems = episode_of(eligible_resources())
    assert problems == []
    assert episode == {
        "assessed_on": "2024-03-04",
        "previous_miscarriages": 1,
        "vaginal_bleeding": True,
        "lmp": "2024-01-15",
        "scans": [
            {
                "date": "2024-03-04",
                "location": "intrauterine",
                "route": None,
                "crl_mm": 9.5,
                "fetal_pole": True,
            }
        ],
        "miscarriage_diagnosed": False,
        # no ectopic pregnancy on her record: unknown, never "none" (stop 27)
        "previous_ectopic": None,
        "on_progesterone": False,
        # not on progesterone: whether hers is NG126's product does not arise (stop 52)
        "on_recommended_progesterone": None,
        # no progestogen that is not progesterone (stop 53)
        "on_other_progestogen": False,
        "allergies": [],
    }


def test_nothing_recorded_is_unknown_not_no():
    episode, _ = episode_of([])
    assert episode["previous_miscarriages"] is None
    assert episode["vaginal_bleeding"] is None
    assert episode["lmp"] is None
    assert episode["scans"] == []
    assert episode["previous_ectopic"] is None


def test_bundle_and_list_are_the_same():
    assert episode_of(eligible_resources()) == episode_of([bundle(eligible_resources())])


@pytest.mark.parametrize(
    ("value", "unit", "mm"), [(0.95, "cm", 9.5), (9.5, "mm", 9.5), (12, "millimeter", 12.0)]
)
def test_crl_units(value, unit, mm):
    episode, problems = episode_of([lmp(), iup(), crl(value, unit)])
    assert episode["scans"][0]["crl_mm"] == mm
    assert problems == []


def test_crl_unknown_unit_is_refused_with_a_message():
    episode, problems = episode_of([lmp(), iup(), crl(0.4, "[in_i]")])
    assert "crl_mm" not in episode["scans"][0]
    assert any("not mm or cm" in p.message and p.field == "Observation/crl" for p in problems)


def test_history_codes_give_lower_bounds():
    history = condition("h", "161744009", None)
    recurrent = condition("r", "102878001", None)
    assert episode_of([history])[0]["previous_miscarriages"] == 1
    assert episode_of([recurrent])[0]["previous_miscarriages"] == 2
    two_dated = [previous_miscarriage("2021-01-10"), condition("mc2", "16607004", "2022-09-01")]
    assert episode_of(two_dated + [lmp()])[0]["previous_miscarriages"] == 2
    # The same miscarriage recorded twice (same onset) counts once.
    same = [previous_miscarriage("2021-01-10"), condition("dup", "17369002", "2021-01-10")]
    assert episode_of(same + [lmp()])[0]["previous_miscarriages"] == 1


def test_refuted_history_is_zero_but_refuted_event_is_ignored():
    refuted = {"coding": [{"code": "refuted"}]}
    assert (
        episode_of([condition("h", "161744009", None, verificationStatus=refuted)])[0][
            "previous_miscarriages"
        ]
        == 0
    )
    assert (
        episode_of([condition("m", "17369002", "2020-01-01", verificationStatus=refuted)])[0][
            "previous_miscarriages"
        ]
        is None
    )


def test_miscarriage_in_this_pregnancy_is_diagnosed_not_previous():
    episode, _ = episode_of([lmp(), condition("now", "16607004", "2024-03-01")])
    assert episode["miscarriage_diagnosed"] is True
    assert episode["previous_miscarriages"] is None


def test_undated_or_unplaceable_miscarriage_is_reported():
    _, problems = episode_of([condition("nodate", "17369002", None)])
    assert any(p.field == "Condition/nodate" for p in problems)
    # no LMP or CRL: a miscarriage 10 weeks ago cannot be placed; 2 years ago can
    recent, problems = episode_of([condition("recent", "17369002", "2023-12-20")])
    assert recent["previous_miscarriages"] is None and problems
    old, _ = episode_of([condition("old", "17369002", "2021-12-20")])
    assert old["previous_miscarriages"] == 1


def test_bleeding_from_condition_observation_and_threatened_miscarriage():
    assert episode_of([lmp(), bleeding()])[0]["vaginal_bleeding"] is True
    assert (
        episode_of([lmp(), condition("tm", "54048003", "2024-03-02")])[0]["vaginal_bleeding"]
        is True
    )
    present = observation("o", SNOMED, "289530006", "2024-03-03", valueBoolean=True)
    assert episode_of([lmp(), present])[0]["vaginal_bleeding"] is True
    absent = observation("o", SNOMED, "289530006", "2024-03-03", valueBoolean=False)
    assert episode_of([lmp(), absent])[0]["vaginal_bleeding"] is False


def test_latest_bleeding_record_wins():
    earlier_present = bleeding("2024-02-20")
    later_absent = observation(
        "o",
        SNOMED,
        "289530006",
        "2024-03-04",
        valueCodeableConcept={"coding": [{"system": SNOMED, "code": "2667000"}]},
    )
    assert episode_of([lmp(), earlier_present, later_absent])[0]["vaginal_bleeding"] is False


def test_bleeding_before_this_pregnancy_is_not_this_pregnancy():
    assert episode_of([lmp(), bleeding("2023-06-01")])[0]["vaginal_bleeding"] is None


def test_resolved_bleeding_condition_is_unknown_with_a_note():
    resolved = condition(
        "b", "289530006", "2024-03-01", clinicalStatus={"coding": [{"code": "resolved"}]}
    )
    episode, problems = episode_of([lmp(), resolved])
    assert episode["vaginal_bleeding"] is None
    assert any("resolved" in p.message for p in problems)


def test_ectopic_condition_is_a_scan_showing_ectopic():
    episode, _ = episode_of([lmp(), iup("2024-02-26"), condition("e", "34801009", "2024-03-04")])
    assert [s["location"] for s in episode["scans"]] == ["intrauterine", "ectopic"]


def test_confirmed_iup_carries_to_a_later_crl_scan():
    episode, _ = episode_of([lmp(), iup("2024-02-26"), crl(12.0, "mm", "2024-03-04")])
    assert [s["location"] for s in episode["scans"]] == ["intrauterine", "intrauterine"]


def test_pregnancy_dated_by_crl_when_no_lmp():
    # No LMP: a CRL of 9.5 mm today dates the pregnancy to 7+0, so a bleed 2 weeks ago is this pregnancy
    episode, _ = episode_of(
        [iup(), crl(), bleeding("2024-02-19"), previous_miscarriage("2023-10-01")]
    )
    assert episode["vaginal_bleeding"] is True
    assert episode["previous_miscarriages"] == 1


def test_future_and_old_lmp():
    future = observation("l", LOINC, "8665-2", "2024-03-04", valueDateTime="2024-04-01")
    episode, problems = episode_of([future])
    assert episode["lmp"] is None and problems
    old = observation("l", LOINC, "8665-2", "2022-03-04", valueDateTime="2022-01-01")
    assert episode_of([old])[0]["lmp"] is None


def test_on_progesterone_from_active_medication_request():
    def request(status, **medication):
        return {
            "resourceType": "MedicationRequest",
            "id": "m",
            "status": status,
            "intent": "order",
            "subject": {"reference": "Patient/x"},
            **medication,
        }

    by_text = request(
        "active", medicationCodeableConcept={"text": "Utrogestan 200mg vaginal capsules"}
    )
    assert episode_of([by_text])[0]["on_progesterone"] is True
    by_rxnorm = request(
        "active",
        medicationCodeableConcept={
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "8727"}]
        },
    )
    assert episode_of([by_rxnorm])[0]["on_progesterone"] is True
    stopped = request("stopped", medicationCodeableConcept={"text": "progesterone"})
    assert episode_of([stopped])[0]["on_progesterone"] is False
    by_reference = request("active", medicationReference={"reference": "Medication/med1"})
    med = {
        "resourceType": "Medication",
        "id": "med1",
        "code": {"text": "Cyclogest 400 mg pessaries"},
    }
    assert episode_of([by_reference, med])[0]["on_progesterone"] is True
    unresolved, problems = episode_of([by_reference])
    # a medicine that cannot be identified may be progesterone: Unknown, never "no"
    assert unresolved["on_progesterone"] is None and problems
    other = request("active", medicationCodeableConcept={"text": "Folic acid 400 micrograms"})
    assert episode_of([other])[0]["on_progesterone"] is None
    coded_other = request(
        "active",
        medicationCodeableConcept={
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1"}],
            "text": "Folic acid 400 micrograms",
        },
    )
    assert episode_of([coded_other])[0]["on_progesterone"] is False


def test_allergies():
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "a",
        "patient": {"reference": "Patient/x"},
        "code": {"text": "Peanut"},
    }
    assert episode_of([allergy])[0]["allergies"] == ["Peanut"]


def test_broken_resources_are_reported_never_raised():
    broken = [
        {"resourceType": "Observation", "id": "o1"},
        {"resourceType": "Condition", "id": "c1", "code": "not-a-concept"},
        {"resourceType": "MedicationRequest", "id": "m1", "status": 7},
        {"resourceType": "Unknown", "id": "u"},
        "not a resource",
        {"no": "type"},
    ]
    result = map_resources(broken + eligible_resources(), TODAY)
    fields = {p.field for p in result.problems}
    assert {"Observation/o1", "Condition/c1", "MedicationRequest/m1"} <= fields
    assert result.episode["previous_miscarriages"] == 1


def test_evidence_names_resources():
    result = map_resources(eligible_resources(), TODAY)
    assert result.evidence["vaginal_bleeding"] == ["Condition/bleed"]
    assert result.evidence["lmp"] == ["Observation/lmp"]


def test_codes_data_file_has_every_code_the_brief_names():
    codes = load_codes()
    flat = {code for s in codes.values() for _, code in s.codes}
    for code in (
        "17369002",
        "16607004",
        "161744009",
        "102878001",
        "289530006",
        "54048003",
        "370383002",
        "11957-8",
        "8665-2",
        "34801009",
    ):
        assert code in flat
    for name, value_set in load_value_sets().items():
        for item in value_set.codes:
            assert item.display and item.checked, (name, item)
    assert codes["miscarriage_history"].at_least[(SNOMED, "102878001")] == 2


def test_assessed_on_is_the_given_day():
    episode, _ = episode_of([])
    assert episode["assessed_on"] == TODAY.isoformat()
    episode, _ = bundle_to_episode([], dt.date(2025, 1, 2))
    assert episode["assessed_on"] == "2025-01-02"


# --- a finding's value qualifies it; references resolve by type and id; same-day CRLs ----------

ABSENT = {"coding": [{"system": SNOMED, "code": "2667000"}]}
PRESENT = {"coding": [{"system": SNOMED, "code": "52101004"}]}
# Observation value[x] types that say nothing about whether a finding is present.
OTHER_VALUES = [
    {"valueQuantity": {"value": 1, "unit": "mm"}},
    {"valueString": "seen?"},
    {"valueInteger": 0},
    {"valueDateTime": "2024-03-04"},
    {"valuePeriod": {"start": "2024-03-01"}},
    {"valueRange": {"low": {"value": 0}}},
    {"valueRatio": {"numerator": {"value": 0}, "denominator": {"value": 1}}},
    {"valueTime": "10:30:00"},
    {"valueSampledData": {"origin": {"value": 0}, "period": 1, "dimensions": 1, "data": "0"}},
    {"valueCodeableConcept": {"text": "query"}},
]


def _value_name(value: dict) -> str:
    return next(iter(value))


def _iup_with(**value):
    return observation("iup", SNOMED, "370383002", TODAY.isoformat(), **value)


def _progesterone_decision(resources):
    episode, _ = episode_of(resources)
    return assess(episode)["progesterone"]["decision"]


@pytest.mark.parametrize("value", [{"valueBoolean": False}, {"valueCodeableConcept": ABSENT}])
def test_iup_recorded_absent_never_leads_to_offer(value):
    # Bleeding and a previous miscarriage: only the scan stands between her and "offer".
    resources = [previous_miscarriage(), bleeding(), lmp(), crl(), _iup_with(**value)]
    episode, _ = episode_of(resources)
    assert episode["scans"][0]["location"] == "unknown"
    assert _progesterone_decision(resources) == "needs_information"  # never "offer"


@pytest.mark.parametrize("value", [{}, {"valueBoolean": True}, {"valueCodeableConcept": PRESENT}])
def test_iup_recorded_present_still_leads_to_offer(value):
    resources = [previous_miscarriage(), bleeding(), lmp(), crl(), _iup_with(**value)]
    assert episode_of(resources)[0]["scans"][0]["location"] == "intrauterine"
    assert _progesterone_decision(resources) == "offer"


def test_ectopic_recorded_absent_is_not_an_ectopic():
    absent = observation("e", SNOMED, "34801009", TODAY.isoformat(), valueCodeableConcept=ABSENT)
    episode, _ = episode_of([lmp(), iup("2024-02-26"), absent])
    assert [s["location"] for s in episode["scans"]] == ["intrauterine"]


@pytest.mark.parametrize("value", OTHER_VALUES, ids=_value_name)
def test_scan_finding_with_a_value_that_is_not_present_or_absent_is_ignored(value):
    episode, problems = episode_of([lmp(), crl(), _iup_with(**value)])
    assert episode["scans"][0]["location"] == "unknown"
    assert any(
        p.field == "Observation/iup" and "scan finding value is not present/absent" in p.message
        for p in problems
    )


def test_scan_finding_carried_in_the_value_is_read():
    finding = observation(
        "f",
        LOINC,
        "59776-5",
        TODAY.isoformat(),
        valueCodeableConcept={"coding": [{"system": SNOMED, "code": "370383002"}]},
    )
    episode, problems = episode_of([lmp(), finding])
    assert episode["scans"] == [{"date": "2024-03-04", "location": "intrauterine", "route": None}]
    assert problems == []


@pytest.mark.parametrize("value", OTHER_VALUES, ids=_value_name)
def test_bleeding_observation_with_another_value_type_is_ignored(value):
    seen = observation("b", SNOMED, "289530006", "2024-03-03", **value)
    episode, problems = episode_of([lmp(), seen])
    assert episode["vaginal_bleeding"] is None
    assert any(
        p.field == "Observation/b" and "value is not present/absent" in p.message for p in problems
    )


def test_bleeding_observation_without_a_value_is_the_finding_seen():
    seen = observation("b", SNOMED, "289530006", "2024-03-03")
    assert episode_of([lmp(), seen])[0]["vaginal_bleeding"] is True


def _request_for(reference: str) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": "rx",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/x"},
        "medicationReference": {"reference": reference},
    }


def _medication(mid: str, text: str) -> dict:
    return {"resourceType": "Medication", "id": mid, "code": {"text": text}}


@pytest.mark.parametrize(
    "reference",
    [
        "Medication/med1",
        "Medication/med1/_history/2",
        "https://ehr.example/fhir/Medication/med1",
        "https://ehr.example/fhir/Medication/med1/_history/2",
    ],
)
def test_medication_reference_resolves_by_type_and_id(reference):
    # A Medication whose id is the version number must not be taken for med1.
    meds = [_medication("med1", "Utrogestan 200 mg"), _medication("2", "Paracetamol")]
    episode, problems = episode_of([_request_for(reference), *meds])
    assert episode["on_progesterone"] is True
    assert problems == []
    meds = [_medication("med1", "Paracetamol"), _medication("2", "Utrogestan 200 mg")]
    # med1 (text only, no progesterone name) cannot be identified: Unknown, not med2's "yes"
    assert episode_of([_request_for(reference), *meds])[0]["on_progesterone"] is None


@pytest.mark.parametrize("reference", ["Substance/med1", "med1", "Medication/med1/extra"])
def test_reference_that_is_not_to_a_medication_id_is_unresolved(reference):
    episode, problems = episode_of([_request_for(reference), _medication("med1", "Cyclogest")])
    assert episode["on_progesterone"] is None  # unresolved: Unknown, never "no"
    assert any(p.field == "MedicationRequest/rx" and "resolved" in p.message for p in problems)


@pytest.mark.parametrize("order", [(9.5, 40.0), (40.0, 9.5)])
def test_same_day_crls_the_larger_dates_the_pregnancy_and_is_shown(order):
    # No LMP: 40 mm dates the pregnancy from about 2023-12-20, 9.5 mm from 2024-01-15, so a
    # bleed on 2024-01-01 is this pregnancy only when the 40 mm scan dates it.
    crls = [
        observation(
            f"c{i}", LOINC, "11957-8", TODAY.isoformat(), valueQuantity={"value": v, "unit": "mm"}
        )
        for i, v in enumerate(order)
    ]
    episode, _ = episode_of([*crls, bleeding("2024-01-01")])
    assert episode["scans"] == [
        {
            "date": "2024-03-04",
            "location": "unknown",
            "route": None,
            "crl_mm": 40.0,
            "fetal_pole": True,
        }
    ]
    assert episode["vaginal_bleeding"] is True


DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
# An Observation that says its value is missing: not "the finding was seen".
MISSING_VALUES = [
    {"dataAbsentReason": {"coding": [{"code": "asked-unknown"}]}},
    {"_valueBoolean": {"extension": [{"url": DATA_ABSENT, "valueCode": "unknown"}]}},
]


@pytest.mark.parametrize("value", MISSING_VALUES, ids=_value_name)
def test_a_finding_whose_value_is_missing_is_not_seen(value):
    seen = observation("b", SNOMED, "289530006", "2024-03-03", **value)
    episode, problems = episode_of([lmp(), seen])
    assert episode["vaginal_bleeding"] is None
    assert any(p.field == "Observation/b" for p in problems)
    resources = [previous_miscarriage(), bleeding(), lmp(), crl(), _iup_with(**value)]
    assert episode_of(resources)[0]["scans"][0]["location"] == "unknown"
    assert _progesterone_decision(resources) == "needs_information"  # never "offer"


# --- as of assessed_on: a record made after the assessment was not known then --------------------

REFUTED = {"coding": [{"code": "refuted"}]}


def _allergy(rid: str = "a", name: str = "Peanut", **dates: str) -> dict:
    return {
        "resourceType": "AllergyIntolerance",
        "id": rid,
        "patient": {"reference": "Patient/x"},
        "code": {"text": name},
        **dates,
    }


def _late_lmp(**dates: str) -> dict:
    """Her LMP of 2024-01-15, as first recorded after the assessment (2024-03-04)."""
    resource = observation("lmp", LOINC, "8665-2", None, valueDateTime="2024-01-15")
    return {**resource, **dates}


@pytest.mark.parametrize(
    "dates",
    [
        {"effectiveDateTime": "2024-03-20"},
        {"effectivePeriod": {"start": "2024-03-20"}},
        {"issued": "2024-03-20T10:00:00Z"},
    ],
    ids=["effectiveDateTime", "effectivePeriod", "issued"],
)
def test_lmp_recorded_after_the_assessment_does_not_date_the_pregnancy(dates):
    # Scan and bleeding wait on the dating: with this LMP counted she would be offered treatment.
    resources = [previous_miscarriage(), bleeding(), iup(), _late_lmp(**dates)]
    episode, problems = episode_of(resources)
    assert episode["lmp"] is None
    assert any(
        p.field == "Observation/lmp"
        and p.message == "LMP was recorded after the assessment date; ignored"
        for p in problems
    )
    assert _progesterone_decision(resources) == "needs_information"
    # the same LMP recorded on the day is used
    assert _progesterone_decision([previous_miscarriage(), bleeding(), iup(), lmp()]) == "offer"


def test_lmp_recorded_is_its_effective_day_then_issued_and_undated_still_counts():
    # effective[x] is when it was recorded, as for every Observation; issued only without one
    taken_then = _late_lmp(effectiveDateTime=TODAY.isoformat(), issued="2024-03-20T10:00:00Z")
    assert episode_of([taken_then])[0]["lmp"] == "2024-01-15"
    assert episode_of([_late_lmp()])[0]["lmp"] == "2024-01-15"
    # a later recording does not displace the one known on the day
    later = {
        **_late_lmp(effectiveDateTime="2024-03-20"),
        "id": "later",
        "valueDateTime": "2024-01-29",
    }
    assert episode_of([lmp(), later])[0]["lmp"] == "2024-01-15"


@pytest.mark.parametrize(
    "dates",
    [
        {"recordedDate": "2024-03-14"},
        {"onsetDateTime": "2024-03-14T09:00:00Z"},
        {"onsetPeriod": {"start": "2024-03-14"}},
    ],
    ids=["recordedDate", "onsetDateTime", "onsetPeriod"],
)
def test_history_of_miscarriage_recorded_after_the_assessment_does_not_count(dates):
    # Bleeding, IUP, 7+0: only the previous miscarriage is missing for an offer.
    base = [bleeding(), lmp(), iup(), crl()]
    late = condition("late", "161744009", None, **dates)
    episode, problems = episode_of([*base, late])
    assert episode["previous_miscarriages"] is None
    assert any(
        p.field == "Condition/late" and "dated after the assessment date" in p.message
        for p in problems
    )
    assert _progesterone_decision([*base, late]) == "needs_information"  # not "offer"
    # A "no previous miscarriage" recorded in time stands: still not an offer.
    denied = condition("no", "161744009", None, verificationStatus=REFUTED)
    assert _progesterone_decision([*base, denied, late]) == "do_not_offer"
    # And a "no" recorded later is not known either: unknown, not none.
    late_denial = condition("no", "161744009", None, verificationStatus=REFUTED, **dates)
    assert episode_of([*base, late_denial])[0]["previous_miscarriages"] is None


def test_history_of_miscarriage_recorded_in_time_keeps_its_lower_bound():
    recurrent = condition("r", "102878001", None, recordedDate=TODAY.isoformat())
    noted_today = condition("h", "161744009", "2020-05-01", recordedDate=TODAY.isoformat())
    assert episode_of([recurrent])[0]["previous_miscarriages"] == 2
    assert episode_of([noted_today])[0]["previous_miscarriages"] == 1
    # a partial date is no date: counted, as an undated one is
    assert episode_of([condition("p", "161744009", "2024-04")])[0]["previous_miscarriages"] == 1


@pytest.mark.parametrize(
    "dates",
    [
        {"recordedDate": "2024-03-05"},
        {"onsetDateTime": "2024-03-05"},
        {"onsetPeriod": {"start": "2024-03-05T08:00:00+01:00"}},
    ],
    ids=["recordedDate", "onsetDateTime", "onsetPeriod"],
)
def test_allergy_dated_after_the_assessment_is_still_listed(dates):
    # A record dated "tomorrow" may be a time zone away (the service's today is a UTC date):
    # leaving the allergy out would choose a product with soya lecithin for a peanut allergy.
    resources = [*eligible_resources(), _allergy("peanut", **dates)]
    episode, problems = episode_of(resources)
    assert episode["allergies"] == ["Peanut"]
    assert problems == []
    plan = assess(episode)["progesterone"]["plan"]
    assert plan["product"]["key"] != "utrogestan"


def test_allergy_recorded_by_the_assessment_or_undated_is_listed():
    on_the_day = _allergy("a", "Peanut", recordedDate=TODAY.isoformat())
    long_known = _allergy("b", "Soya lecithin", onsetDateTime="2010-01-01")
    undated = _allergy("c", "Penicillin")
    episode, problems = episode_of([*eligible_resources(), on_the_day, long_known, undated])
    assert episode["allergies"] == ["Peanut", "Soya lecithin", "Penicillin"]
    assert problems == []
    assert assess(episode)["progesterone"]["plan"]["product"]["key"] != "utrogestan"


SUSPECTED = {"coding": [{"system": SNOMED, "code": "415684004", "display": "Suspected"}]}
UNCERTAIN_VALUES = [
    {"valueCodeableConcept": SUSPECTED},
    {"valueString": "possible left adnexal mass"},
    {"dataAbsentReason": {"coding": [{"code": "asked-unknown"}]}},
]


@pytest.mark.parametrize("value", UNCERTAIN_VALUES, ids=["suspected", "text", "absent-reason"])
def test_an_uncertain_ectopic_after_an_iup_never_leads_to_offer(value):
    # An IUP yesterday, then an ectopic finding today that is neither yes nor no: the earlier
    # IUP must not stand (it did once the value started to qualify the finding).
    ectopic = observation("e", SNOMED, "34801009", TODAY.isoformat(), **value)
    resources = [previous_miscarriage(), bleeding(), lmp(), iup("2024-03-03"), ectopic]
    episode, problems = episode_of(resources)
    assert [s["location"] for s in episode["scans"]] == ["intrauterine", "unknown"]
    assert any(p.field == "Observation/e" and "taken as unknown" in p.message for p in problems)
    assert _progesterone_decision(resources) == "needs_information"  # never "offer"


def test_on_one_day_a_definite_ectopic_outranks_an_uncertain_finding_which_outranks_an_iup():
    uncertain = observation("u", SNOMED, "34801009", TODAY.isoformat(), valueString="?")
    ectopic = observation("e", SNOMED, "34801009", TODAY.isoformat())
    same_day_iup = iup(TODAY.isoformat())
    for order in ([same_day_iup, uncertain], [uncertain, same_day_iup]):
        assert episode_of([lmp(), *order])[0]["scans"][0]["location"] == "unknown"
    for order in ([ectopic, uncertain], [uncertain, ectopic]):
        assert episode_of([lmp(), *order])[0]["scans"][0]["location"] == "ectopic"


def test_an_uncertain_day_ends_the_location_carried_from_earlier_scans():
    uncertain = observation("u", SNOMED, "34801009", "2024-03-02", valueString="?")
    later_crl = crl(9.5, on=TODAY.isoformat())
    episode, _ = episode_of([lmp(), iup("2024-03-01"), uncertain, later_crl])
    assert [s["location"] for s in episode["scans"]] == ["intrauterine", "unknown", "unknown"]


def _on(medication: dict, authored: str = "2024-03-01", **fields) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": "rx",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/x"},
        "authoredOn": authored,
        **medication,
        **fields,
    }


def _on_progesterone(*resources: dict) -> bool:
    return episode_of([lmp(), iup(), *resources])[0]["on_progesterone"]


UTROGESTAN = {"medicationCodeableConcept": {"text": "Utrogestan 200mg vaginal capsules"}}


@pytest.mark.parametrize(
    "text",
    [
        "Medroxyprogesterone acetate 150 mg/ml injection",  # a contraceptive, not treatment
        "Hydroxyprogesterone caproate",
        "Dydrogesterone 10 mg",
    ],
)
def test_a_name_that_only_contains_progesterone_is_not_progesterone(text):
    # "continue" for a woman who is not on vaginal progesterone would mislead the clinician.
    resources = [_on({"medicationCodeableConcept": {"text": text}})]
    assert _on_progesterone(*resources) is not True  # text naming no product we list: Unknown
    assert _progesterone_decision([lmp(), iup(), *resources]) != "continue"


@pytest.mark.parametrize("text", ["Progesterone 200 mg", "UTROGESTAN®", "cyclogest-400"])
def test_a_progesterone_name_standing_on_its_own_is_read(text):
    assert _on_progesterone(_on({"medicationCodeableConcept": {"text": text}})) is True


def test_a_do_not_perform_request_is_not_treatment():
    assert _on_progesterone(_on(UTROGESTAN, doNotPerform=True)) is False
    assert _on_progesterone(_on(UTROGESTAN, doNotPerform=False)) is True


def test_a_request_left_active_since_an_earlier_pregnancy_is_not_current():
    # lmp() is 2024-01-15: a request of 2022 belongs to an earlier pregnancy.
    assert _on_progesterone(_on(UTROGESTAN, authored="2022-05-01")) is False
    assert _on_progesterone(_on(UTROGESTAN, authored="2024-02-01")) is True
    assert _on_progesterone(_on(UTROGESTAN, authored=None)) is True  # undated: cannot tell


def test_a_logical_medication_reference_is_read_by_its_display():
    logical = {
        "medicationReference": {
            "identifier": {"system": "https://dmd.nhs.uk", "value": "3304911000001108"},
            "display": "Cyclogest 400mg pessaries",
        }
    }
    assert _on_progesterone(_on(logical)) is True


def test_a_refuted_history_does_not_outweigh_a_miscarriage_that_cannot_be_placed():
    refuted = {
        **condition("h", "161744009", "2015-01-01"),
        "verificationStatus": {"coding": [{"code": "refuted"}]},
    }
    # a year only, this pregnancy's year: before it or in it cannot be told (a year wholly before
    # this pregnancy is a previous miscarriage since stop 24)
    unplaceable = condition("m", "17369002", TODAY.isoformat()[:4])
    assert episode_of([lmp(), refuted])[0]["previous_miscarriages"] == 0
    episode, problems = episode_of([lmp(), refuted, unplaceable])
    assert episode["previous_miscarriages"] is None  # unknown, not "none"
    assert any(p.field == "Condition/m" for p in problems)
    resources = [lmp(), iup(), bleeding(), refuted, unplaceable]
    assert _progesterone_decision(resources) == "needs_information"  # not "do_not_offer"


def test_a_medication_named_only_by_its_ingredient_is_read():
    # On progesterone with a miscarriage diagnosed: "stop", which a missed request would hide.
    contained = _on(
        {"medicationReference": {"reference": "#m"}},
        contained=[
            {
                "resourceType": "Medication",
                "id": "m",
                "ingredient": [{"itemCodeableConcept": {"text": "Progesterone micronised"}}],
            }
        ],
    )
    assert _on_progesterone(contained) is True
    diagnosed = condition("m", "17369002", TODAY.isoformat())
    assert _progesterone_decision([lmp(), iup(), bleeding(), diagnosed, contained]) == "stop"


def test_a_crl_given_as_a_bound_does_not_date_the_pregnancy():
    bound = crl(5.0)
    bound["valueQuantity"] = {**bound["valueQuantity"], "comparator": "<"}
    episode, problems = episode_of([bound])
    assert episode["scans"] == [] and episode["lmp"] is None
    assert any("comparator" in p.message for p in problems)


def test_a_bundle_whose_entry_is_not_a_list_is_read_as_empty():
    from earlypath.fhir.mapping import flatten

    assert flatten({"resourceType": "Bundle", "entry": {"resource": lmp()}}) == []
