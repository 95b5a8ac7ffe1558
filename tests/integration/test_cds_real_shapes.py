"""The CDS service on results shaped as lab systems send them: a negative pregnancy test coded
with a LOINC answer, "not detected", or written as words is read as "not pregnant" (it ends the
pregnancy before it), as the SNOMED-coded negative always was; codes under their system's OID are read as under its
URI."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.integration.cds_reading import FakeFhir, with_server
from tests.integration.fhir_data import (
    PATIENT_ID,
    bundle,
    eligible_resources,
    hook_request,
    prefetch_for,
)
from tests.records.real_shapes import (
    COMPONENT_SHAPES,
    HER_IDENTIFIER,
    HER_NHS_NUMBER,
    LOCAL_FIRST,
    MEDICATION_SHAPES,
    NEGATIVE_TESTS,
    NG126_PRODUCT,
    NHS_NUMBER,
    PERIOD_SHAPES,
    PROGESTOGEN_SHAPES,
    STATEMENT_SHAPES,
    STATUS_SHAPES,
    UNREADABLE_TESTS,
    UNTIED_SUBJECTS,
    UTROGESTAN_DMD,
    YES_NO,
    active_request,
    bleeding_answered,
    bleeding_with_status,
    contained_subject,
    ectopic_today,
    ended_then_scanned,
    her_patient,
    pregnancy_test,
    with_current_medication,
    with_oid_systems,
    with_panel,
    with_subject,
)

PV = "/cds-services/ng126-progesterone"


def _summaries(client, resources) -> list[str]:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(resources)))
    assert response.status_code == 200, response.text
    return [card["summary"] for card in response.json()["cards"]]


@pytest.mark.parametrize("shape", sorted(NEGATIVE_TESTS))
def test_a_negative_test_as_labs_write_it_ends_the_pregnancy_before_it(client, shape):
    test = pregnancy_test(*NEGATIVE_TESTS[shape])
    (summary,) = _summaries(client, ended_then_scanned(test))
    assert not summary.startswith("Offer")
    assert "gestational age" in summary


@pytest.mark.parametrize("shape", sorted(UNREADABLE_TESTS))
def test_a_test_result_that_says_nothing_ends_nothing(client, shape):
    test = pregnancy_test(*UNREADABLE_TESTS[shape])
    (summary,) = _summaries(client, ended_then_scanned(test))
    assert summary.startswith("Offer")


@pytest.mark.parametrize("shape", sorted(NEGATIVE_TESTS))
def test_a_negative_test_alone_is_no_pregnancy(client, shape):
    assert _summaries(client, [pregnancy_test(*NEGATIVE_TESTS[shape])]) == []


def test_a_record_coded_with_oid_systems_is_read_as_with_their_uris(client):
    resources = [with_oid_systems(r) for r in eligible_resources()]
    (summary,) = _summaries(client, resources)
    assert summary.startswith("Offer")


def test_an_ectopic_coded_with_the_snomed_oid_is_no_offer(client):
    resources = [*eligible_resources(), with_oid_systems(ectopic_today())]
    (summary,) = _summaries(client, resources)
    assert not summary.startswith("Offer")
    assert "ectopic" in summary


EXPECTED_SUMMARY = {"offer": "Offer", "do_not_offer": "Progesterone not recommended"}


@pytest.mark.parametrize("shape", sorted(YES_NO))
def test_a_yes_or_no_answer_is_read_as_true_or_false(client, shape):
    answer, expected = YES_NO[shape]
    (summary,) = _summaries(client, bleeding_answered(answer))
    assert summary.startswith(EXPECTED_SUMMARY[expected])


@pytest.mark.parametrize("shape", sorted(LOCAL_FIRST))
def test_a_status_after_a_local_coding_is_read(client, shape):
    element, status, expected = LOCAL_FIRST[shape]
    (summary,) = _summaries(client, bleeding_with_status(element, status))
    if expected == "needs_information":
        assert "needs whether she has vaginal bleeding" in summary
    else:
        assert summary.startswith(EXPECTED_SUMMARY[expected])


# --- a subject named by identifier only, a contained Patient, a display text ---------------------

BY_NUMBER = {"identifier": HER_IDENTIFIER}
OTHER_NUMBER = {"system": "https://gp.example/mrn", "value": "mrn-77"}


def _call(client, resources, patient):
    prefetch = prefetch_for(resources)
    prefetch["patient"] = patient
    return client.post(PV, json=hook_request("patient-view", prefetch))


def _assert_untied(response, key="prefetch.observations", element="Observation.subject"):
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == key
    assert f"{element} cannot be tied to the patient in context" in error["message"]
    assert "another patient" not in response.text
    assert PATIENT_ID not in response.text and HER_NHS_NUMBER not in response.text


def test_a_subject_named_by_her_nhs_number_is_hers(client):
    """UK Core: every subject is her NHS number, no literal reference; her Patient carries it
    (beside a local number): read as hers, as with `Patient/<id>`."""
    resources = [with_subject(r, BY_NUMBER) for r in eligible_resources()]
    response = _call(client, resources, her_patient(OTHER_NUMBER, HER_IDENTIFIER))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["summary"].startswith("Offer")


def test_her_progesterone_order_named_by_her_nhs_number_is_read_as_current(client):
    """A MedicationRequest for progesterone whose subject is her NHS number only (UK Core): she
    is on progesterone ("continue"), as with `Patient/<id>`; tied to nobody it would be "offer"."""
    order = with_subject(active_request(UTROGESTAN_DMD), BY_NUMBER)
    prefetch = prefetch_for(eligible_resources(), medications=[order])
    prefetch["patient"] = her_patient(HER_IDENTIFIER)
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["summary"].startswith("Continue"), card["summary"]
    assert "- on\\_progesterone: MedicationRequest/rx-1" in card["detail"]


def test_an_ectopic_named_by_her_nhs_number_is_read_and_stops_the_offer(client):
    ectopic = with_subject(ectopic_today(), BY_NUMBER)
    (summary,) = [
        c["summary"]
        for c in _call(
            client, [*eligible_resources(), ectopic], her_patient(HER_IDENTIFIER)
        ).json()["cards"]
    ]
    assert not summary.startswith("Offer")
    assert "ectopic" in summary


def test_a_patient_sent_without_its_id_still_ties_her_number(client):
    """The CDS Hooks spec's prefetch example sends the Patient without its id: it answers
    `Patient/{{context.patientId}}`, so its identifiers are hers."""
    patient = her_patient(HER_IDENTIFIER)
    del patient["id"]
    resources = [with_subject(r, BY_NUMBER) for r in eligible_resources()]
    assert _call(client, resources, patient).status_code == 200


@pytest.mark.parametrize("shape", sorted(UNTIED_SUBJECTS))
def test_a_subject_that_cannot_be_tied_to_her_refuses_the_call(client, shape):
    """Not read as hers and not called another patient's: the call is refused (no card, so no
    offer on part of her record), naming the key and the element."""
    iup_scan = next(r for r in eligible_resources() if r["id"] == "iup")
    odd = (
        contained_subject(iup_scan)
        if shape == "contained"
        else with_subject(iup_scan, UNTIED_SUBJECTS[shape])
    )
    resources = [r for r in eligible_resources() if r["id"] != "iup"] + [odd]
    _assert_untied(_call(client, resources, her_patient(HER_IDENTIFIER)))


# a valid synthetic NHS number (its modulus 11 check digit computed; the 999 range is not issued)
VALID_NHS_NUMBER = "9990000018"


@pytest.mark.parametrize("written", ["999 000 0018", "999-000-0018", " 999 000 0018 "])
def test_her_nhs_number_written_with_spaces_or_hyphens_is_hers(client, written):
    """Stop 26: an NHS number as it is displayed (3-3-4 with spaces) or keyed with hyphens is her
    ten digits (the one rule of `earlypath.records.identifiers`, as the audit ties it): read as
    hers, not refused as "not tied"."""
    number = {"system": NHS_NUMBER, "value": VALID_NHS_NUMBER}
    resources = [
        with_subject(r, {"identifier": {**number, "value": written}}) for r in eligible_resources()
    ]
    response = _call(client, resources, her_patient(number))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["summary"].startswith("Offer")


def test_an_nhs_number_that_is_not_one_is_never_reformatted_and_is_named(client):
    """Spaces removed, her number "9990001112" fails its check digit: not an NHS number, so
    "999 000 1112" is compared as written, ties nothing, and the refusal says why (no number
    in the message)."""
    iup_scan = next(r for r in eligible_resources() if r["id"] == "iup")
    spaced = {"identifier": {"system": NHS_NUMBER, "value": "999 000 1112"}}
    resources = [r for r in eligible_resources() if r["id"] != "iup"] + [
        with_subject(iup_scan, spaced)
    ]
    response = _call(client, resources, her_patient(HER_IDENTIFIER))
    _assert_untied(response)
    assert "NHS number is not a valid one" in response.json()["errors"][0]["message"]
    assert "999 000 1112" not in response.text


def test_her_number_with_no_patient_to_compare_cannot_be_tied(client):
    """The Patient was not sent (and there is no fhirServer to fetch it): her number ties
    nothing."""
    resources = [with_subject(r, BY_NUMBER) for r in eligible_resources()]
    prefetch = prefetch_for(resources)
    del prefetch["patient"]
    _assert_untied(
        client.post(PV, json=hook_request("patient-view", prefetch)),
        "prefetch.conditions",
        "Condition.subject",
    )


def test_an_ectopic_that_cannot_be_tied_to_her_gives_no_offer(client):
    """The ectopic pregnancy, named by a number her Patient does not carry: never left out to
    give an offer on the rest of her record."""
    ectopic = with_subject(ectopic_today(), {"identifier": {"system": NHS_NUMBER, "value": "1"}})
    response = _call(client, [*eligible_resources(), ectopic], her_patient(HER_IDENTIFIER))
    _assert_untied(response, "prefetch.conditions", "Condition.subject")
    assert "cards" not in response.json()


def test_another_patients_resource_is_still_called_so(client):
    bleed = with_subject(
        next(r for r in eligible_resources() if r["id"] == "bleed"),
        {"reference": "Patient/other-PATIENT-8810", "identifier": HER_IDENTIFIER},
    )
    resources = [r for r in eligible_resources() if r["id"] != "bleed"] + [bleed]
    response = _call(client, resources, her_patient(HER_IDENTIFIER))
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "prefetch.conditions"
    assert "another patient" in error["message"]
    assert "other-PATIENT-8810" not in response.text


def test_untied_subjects_log_no_patient_data(client, caplog):
    caplog.set_level(logging.DEBUG)
    ectopic = with_subject(ectopic_today(), UNTIED_SUBJECTS["identifier-not-hers"])
    _call(client, [*eligible_resources(), ectopic], her_patient(HER_IDENTIFIER))
    assert "Condition.subject cannot be tied" in caplog.text
    for secret in (PATIENT_ID, HER_NHS_NUMBER, "9990001113"):
        assert secret not in caplog.text


def test_her_patient_fetched_from_the_fhir_server_ties_her_number(make_client):
    """The Patient not prefetched: fetched first (`Patient/{{context.patientId}}`), its
    identifiers tie the prefetched subjects given by her number."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/Patient/{PATIENT_ID}"):
            return httpx.Response(200, json=her_patient(HER_IDENTIFIER))
        return httpx.Response(200, json=bundle([]))

    client = make_client(fhir_transport=FakeFhir(answer).transport)
    prefetch = prefetch_for([with_subject(r, BY_NUMBER) for r in eligible_resources()])
    del prefetch["patient"]
    response = client.post(PV, json=with_server(hook_request("patient-view", prefetch)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["summary"].startswith("Offer")


# --- a current prescription whose medicine cannot be identified -----------------------------------


def _medication_card(client, shape):
    resources, exported = with_current_medication(shape)
    clinical = [r for r in resources if r["resourceType"] != "MedicationRequest"]
    requests = [r for r in resources if r["resourceType"] == "MedicationRequest"]
    prefetch = prefetch_for(clinical, [*requests, *exported])
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


@pytest.mark.parametrize("shape", sorted(MEDICATION_SHAPES))
def test_a_current_medicine_that_cannot_be_identified_is_never_read_as_not_on_it(client, shape):
    """Unknown is never False: an eligible woman with an active prescription that may be
    progesterone is not offered it (a duplicate prescription); the card asks whether she is
    already taking it. One clearly coded as another medicine leaves the offer."""
    card = _medication_card(client, shape)
    expected = MEDICATION_SHAPES[shape][2]
    if expected is None:
        assert not card["summary"].startswith("Offer")
        assert "needs whether she is already taking progesterone" in card["summary"]
    elif expected:
        assert card["summary"].startswith("Continue")
    else:
        assert card["summary"].startswith("Offer")
    # stop 52: a progestogen is named as one; her current progesterone, when it is not NG126
    # 1.5.2's product or may not be, is said so (never a bare "continue"), citing 1.5.2
    assert ("progestogen that is not progesterone" in card["detail"]) == (
        shape in PROGESTOGEN_SHAPES
    )
    # stop 53: the "why" of a progestogen says it was identified as one, citing NG126 1.5.2
    # (never "could not be identified"); the decision is the same (needs information)
    why = card["detail"].split("**Missing**")[0]
    assert ("She is taking a progestogen that is not progesterone" in why) == (
        shape in PROGESTOGEN_SHAPES
    )
    assert ("could not be identified" in why) == (
        expected is None and shape not in PROGESTOGEN_SHAPES
    )
    if shape in PROGESTOGEN_SHAPES:
        assert "NG126 1.5.2" in why.split("She is taking a progestogen")[1].split("\n")[0]
    product = NG126_PRODUCT.get(shape, (None, ()))[0] if expected else True
    assert ("is NOT the product NG126 1.5.2 recommends" in card["detail"]) == (product is False)
    assert ("Whether her current progesterone is the product NG126 1.5.2" in card["detail"]) == (
        expected is True and product is None
    )
    if expected:  # the summary says it too: only NG126's product reads "vaginal progesterone"
        summary = {True: "Continue vaginal progesterone", False: "it is NOT NG126 1.5.2's"}
        assert summary.get(product, "check it is NG126 1.5.2's product") in card["summary"]


# --- findings as components of an ultrasound panel; a period with its end only ---------------------


@pytest.mark.parametrize("shape", ["crl-cm-and-rate", "viable-finding-component"])
def test_a_panel_scan_dates_the_pregnancy_and_offers(client, shape):
    (summary,) = _summaries(client, with_panel(shape))
    assert summary.startswith("Offer")


@pytest.mark.parametrize("shape", sorted(set(COMPONENT_SHAPES) - {"crl-cm-and-rate"}))
def test_a_panel_gives_the_card_its_findings_and_problems(client, shape):
    _, _, problem = COMPONENT_SHAPES[shape]
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(with_panel(shape))))
    (card,) = response.json()["cards"]
    if problem is None:
        assert "Observation/us-panel" in card["detail"].split("**Data used**")[1]
    else:
        unused = card["detail"].split("**Data that could not be used**")[1]
        assert "Observation/us-panel" in unused


@pytest.mark.parametrize("shape", sorted(PERIOD_SHAPES))
def test_a_period_with_its_end_only_is_dated(client, shape):
    resources, _, _ = PERIOD_SHAPES[shape]
    (summary,) = _summaries(client, resources)
    assert summary.startswith("Offer")


@pytest.mark.parametrize("shape", sorted(STATEMENT_SHAPES))
def test_a_medication_statement_sent_with_her_medicines_is_read(client, shape):
    resource, expected = STATEMENT_SHAPES[shape]
    prefetch = prefetch_for(eligible_resources(), [resource])
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    (card,) = response.json()["cards"]
    starts = {True: "Continue", False: "Offer", None: "NG126 progesterone: needs"}[expected]
    assert card["summary"].startswith(starts), card["summary"]


@pytest.mark.parametrize("shape", sorted(STATUS_SHAPES))
def test_a_pregnancy_status_as_us_core_ips_ccda_synthea_write_it(client, shape):
    record, ends = STATUS_SHAPES[shape]
    (summary,) = _summaries(client, ended_then_scanned(record))
    if ends:  # the old LMP dates nothing: the gestation is unknown
        assert not summary.startswith("Offer")
        assert "gestational age" in summary
    else:
        assert summary.startswith("Offer")
