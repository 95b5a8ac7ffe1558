"""The CDS service on records coded as real systems code them (UK primary-care lists, Synthea,
dm+d): the same answers as with the codes it was first written for (issue 11)."""

from __future__ import annotations

import pytest

from tests.integration.fhir_data import (
    LOINC,
    SNOMED,
    bundle,
    condition,
    day,
    eligible_resources,
    hook_request,
    iup,
    observation,
    prefetch_for,
    progesterone_order,
)

PV = "/cds-services/ng126-progesterone"
SIGN = "/cds-services/ng126-progesterone-order-sign"
DMD = "https://dmd.nhs.uk"
RESCAN = "arrange a rescan"


def _card(client, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


def uk_coded_eligible():
    """Offer: a previous miscarriage as Synthea codes it, bleeding from a UK primary-care list,
    an LMP as UK GP systems code it, an IUP on a scan 3 days ago."""
    return [
        condition("mc1", "85116003", "2022-06-01"),
        condition("bleed", "723665008", day(-1)),
        observation("lmp", SNOMED, "161713000", day(), valueDateTime="2024-01-15"),
        iup(day(-3)),
    ]


def test_uk_coded_record_gets_an_offer(client):
    card = _card(client, PV, hook_request("patient-view", prefetch_for(uk_coded_eligible())))
    assert "Offer" in card["summary"]


@pytest.mark.parametrize(
    "ectopic",
    [
        condition("ect", "79586000", day()),
        condition("ect", "198620003", day()),
        condition("ect", "9899009", day()),
        observation("ect", SNOMED, "370382007", day()),
    ],
)
def test_an_ectopic_today_after_an_intrauterine_scan_is_no_offer(client, ectopic):
    resources = [*uk_coded_eligible(), ectopic]
    card = _card(client, PV, hook_request("patient-view", prefetch_for(resources)))
    assert "Offer" not in card["summary"]
    assert "ectopic" in (card["summary"] + card["detail"]).lower()


@pytest.mark.parametrize(
    "miscarriage",
    [
        condition("mc-now", "156073000", day()),
        condition("mc-now", "156072005", day()),
        condition("mc-now", "35999006", day()),
        observation("mc-now", SNOMED, "156073000", day()),  # as UK GP systems record it
    ],
)
def test_a_miscarriage_today_is_no_offer(client, miscarriage):
    # eligible_resources() alone is an offer with the codes the service was first written for
    resources = [*eligible_resources(), miscarriage]
    card = _card(client, PV, hook_request("patient-view", prefetch_for(resources)))
    assert "Offer" not in card["summary"]


def test_a_draft_order_coded_only_by_its_dmd_vmp_gets_an_order_card(client):
    order = progesterone_order(text="")
    order["medicationCodeableConcept"] = {"coding": [{"system": DMD, "code": "39708911000001106"}]}
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    card = _card(client, SIGN, body)
    assert "progesterone" in (card["summary"] + card["detail"]).lower()


def test_an_endometrin_draft_order_gets_an_order_card(client):
    order = progesterone_order(text="Endometrin 100 mg vaginal insert")
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    assert _card(client, SIGN, body)


def test_on_a_dmd_coded_prescription_she_is_on_progesterone(client):
    active = {
        "resourceType": "MedicationRequest",
        "id": "rx1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/pat-SECRET-4417"},
        "authoredOn": day(-2),
        "medicationCodeableConcept": {"coding": [{"system": DMD, "code": "39709011000001102"}]},
    }
    prefetch = prefetch_for(uk_coded_eligible(), medications=[active])
    card = _card(client, PV, hook_request("patient-view", prefetch))
    assert "Continue" in card["summary"]


def test_an_offer_card_stops_asking_for_a_rescan_when_a_heartbeat_is_on_record(client):
    without = _card(client, PV, hook_request("patient-view", prefetch_for(eligible_resources())))
    heart = observation("fh", LOINC, "11948-7", day(), valueQuantity={"value": 148, "unit": "/min"})
    prefetch = prefetch_for([*eligible_resources(), heart])
    with_heart = _card(client, PV, hook_request("patient-view", prefetch))
    assert RESCAN in without["detail"]
    assert "Offer" in with_heart["summary"] and RESCAN not in with_heart["detail"]


def test_an_lmp_without_a_date_value_is_said_to_be_unusable(client):
    # Whether a GP system's event date is the LMP itself could not be verified: never guessed.
    undated = observation("lmp", SNOMED, "161713000", day())
    resources = [
        condition("mc1", "19169002", "2022-06-01"),
        condition("b", "723665008", day()),
        undated,
        iup(),
    ]
    card = _card(client, PV, hook_request("patient-view", prefetch_for(resources)))
    assert "Offer" not in card["summary"]
    assert "LMP has no full date" in card["detail"]


def test_the_observation_prefetch_has_no_code_filter(client):
    # A finding can be the value of a generic code, and sites add codes: a code list would miss them.
    for service in client.get("/cds-services").json()["services"]:
        assert service["prefetch"]["observations"] == "Observation?patient={{context.patientId}}"


def test_an_ectopic_recorded_as_the_value_of_a_generic_code_is_read(client):
    finding = observation(
        "pf",
        LOINC,
        "59776-5",
        day(),
        valueCodeableConcept={"coding": [{"system": SNOMED, "code": "79586000"}]},
    )
    resources = [*uk_coded_eligible(), finding]
    card = _card(client, PV, hook_request("patient-view", prefetch_for(resources)))
    assert "Offer" not in card["summary"]


def test_an_order_with_the_edqm_vaginal_route_is_vaginal(client):
    order = progesterone_order(end="2024-05-06")
    order["dosageInstruction"][0]["route"] = {
        "coding": [{"system": "http://standardterms.edqm.eu", "code": "20072000"}]
    }
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    card = _card(client, SIGN, body)
    assert "route is not vaginal" not in card["summary"] + card["detail"]
    assert card["indicator"] == "info"
