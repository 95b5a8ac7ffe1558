"""Issue 11 review: CDS Hooks calls shaped as real EHRs and reference clients send them.

The shapes come from the CDS Hooks 2.0 specification (its prefetch and order-select examples,
`fhirAuthorization`), the reference sandbox client (it fills prefetch itself, leaves out a key
whose fetch failed, sends no `fhirAuthorization` for an open FHIR server), searchset Bundles as
FHIR servers write them, and Synthea-style records (urn:uuid references). Each test says what a
clinical safety officer would expect: a request valid per the spec is answered; a decision is
never made on partial, foreign or failed data; a product is never chosen on a false "no
allergies".
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.cds_reading import (
    FHIR,
    OTHER_PATIENT,
    PV,
    SIGN,
    TOKEN,
    FakeFhir,
    decision,
    outcome,
    page,
    with_server,
)
from tests.integration.fhir_data import (
    LOINC,
    PATIENT_ID,
    SNOMED,
    bleeding,
    bundle,
    condition,
    crl,
    day,
    eligible_resources,
    hook_request,
    iup,
    lmp,
    observation,
    prefetch_for,
    previous_miscarriage,
    progesterone_order,
)

SELECT = "/cds-services/ng126-progesterone-order-select"
DMD = "https://dmd.nhs.uk"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _cards(client, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()["cards"]


def _offer_order(card: dict[str, Any]) -> dict[str, Any]:
    """The draft MedicationRequest an offer card suggests."""
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    return action["resource"]


def _with_allergies(allergies: list[dict[str, Any]] | None) -> dict[str, Any]:
    prefetch = prefetch_for(eligible_resources())
    prefetch["allergies"] = page(allergies) if allergies is not None else None
    return prefetch


def allergy(rid: str, code: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": rid,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "code": "confirmed",
                }
            ]
        },
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "code": code,
        **extra,
    }


# --- patient-view: request shapes from the spec, the sandbox and FHIR servers -------------------


def test_spec_example_patient_without_id_is_read(client):
    """The spec's prefetch example sends the Patient read without its id: answered, not refused."""
    prefetch = prefetch_for(eligible_resources())
    prefetch["patient"] = {"resourceType": "Patient", "gender": "female", "birthDate": "1990-04-02"}
    assert decision(client.post(PV, json=hook_request("patient-view", prefetch))) == "offer"


def test_searchset_bundles_as_servers_write_them_are_read(client):
    """fullUrl, search.mode, total and a self link on every prefetch value."""
    resources = eligible_resources()
    prefetch = {
        "patient": {"resourceType": "Patient", "id": PATIENT_ID, "gender": "female"},
        "conditions": page([r for r in resources if r["resourceType"] == "Condition"], total=2),
        "observations": page([r for r in resources if r["resourceType"] == "Observation"], total=3),
        "medications": page([], total=0),
        "statements": page([], total=0),
        "reports": page([], total=0),
        "allergies": page([], total=0),
    }
    prefetch["observations"]["meta"] = {"lastUpdated": "2024-03-04T09:12:00Z"}
    prefetch["observations"]["id"] = "a7c1e9"
    assert decision(client.post(PV, json=hook_request("patient-view", prefetch))) == "offer"


def test_empty_searchset_without_entry_is_no_data(client):
    """`{"total": 0}` and no `entry` (how servers answer an empty search) is "none", not missing."""
    prefetch = prefetch_for(eligible_resources())
    prefetch["medications"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 0,
        "link": [{"relation": "self", "url": f"{FHIR}/MedicationRequest?patient={PATIENT_ID}"}],
    }
    assert decision(client.post(PV, json=hook_request("patient-view", prefetch))) == "offer"


def test_prefetch_key_sent_as_null_means_no_data(client):
    """The spec: null is "the client has no data for this key"; other keys still decide."""
    prefetch = prefetch_for(eligible_resources())
    prefetch["medications"] = None
    prefetch["patient"] = None
    assert decision(client.post(PV, json=hook_request("patient-view", prefetch))) == "offer"
    # no conditions at all: bleeding and previous miscarriage are unknown, never "no"
    prefetch["conditions"] = None
    (card,) = _cards(client, PV, hook_request("patient-view", prefetch))
    assert card["summary"].startswith("NG126 progesterone: needs")
    assert "whether she has vaginal bleeding" in card["summary"]


def test_patient_with_no_pregnancy_gets_no_card(client):
    diabetes = condition("dm", "44054006", "2019-05-01")
    prefetch = prefetch_for([diabetes])
    prefetch["patient"] = {"resourceType": "Patient", "id": PATIENT_ID, "gender": "male"}
    assert _cards(client, PV, hook_request("patient-view", prefetch)) == []


@pytest.mark.parametrize(
    "user", ["Practitioner/example", "PractitionerRole/123", "Practitioner/a1.b-2"]
)
def test_context_as_ehrs_send_it_is_accepted(client, user):
    body = hook_request("patient-view", prefetch_for(eligible_resources()), encounterId="89284")
    body["context"]["userId"] = user
    body["hookInstance"] = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
    assert decision(client.post(PV, json=body)) == "offer"


@pytest.mark.parametrize("server", [FHIR, FHIR + "/"])
def test_everything_prefetched_fetches_nothing(make_client, server):
    """With fhirServer and fhirAuthorization (scope, subject, expires_in) and a full prefetch."""
    fhir = FakeFhir()
    client = make_client(fhir_transport=fhir.transport)
    body = with_server(hook_request("patient-view", _with_allergies([])), server)
    assert decision(client.post(PV, json=body)) == "offer"
    assert fhir.seen == []


@pytest.mark.parametrize("server", [FHIR, FHIR + "/"])
def test_key_left_out_is_fetched_under_the_base_with_the_token(make_client, server):
    """The sandbox leaves out a key whose fetch failed: the service fetches it itself."""
    fhir = FakeFhir()
    client = make_client(fhir_transport=fhir.transport)
    prefetch = prefetch_for(eligible_resources())
    del prefetch["allergies"]
    body = with_server(hook_request("patient-view", prefetch), server)
    assert decision(client.post(PV, json=body)) == "offer"
    (request,) = fhir.seen
    assert request.url.path == "/fhir/AllergyIntolerance"
    assert request.url.params["patient"] == PATIENT_ID
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_open_fhir_server_without_authorization_is_fetched_without_a_token(make_client):
    """The sandbox sends no fhirAuthorization for an open server: fetch, with no token."""
    fhir = FakeFhir()
    fhir.by_type["Condition"] = [previous_miscarriage(), bleeding()]
    fhir.by_type["Observation"] = [lmp(), iup(), crl()]
    client = make_client(fhir_transport=fhir.transport)
    body = hook_request("patient-view", None)
    body["fhirServer"] = FHIR
    assert decision(client.post(PV, json=body)) == "offer"
    assert len(fhir.seen) == 10  # each of the 10 prefetch keys
    assert all("authorization" not in r.headers for r in fhir.seen)


def test_synthea_style_record_with_urn_uuid_references_is_read(client):
    """Synthea: the Patient's id is its urn:uuid, and every reference is `urn:uuid:<id>`."""
    patient_id = "3f1c6e2a-8d4b-4f5e-9a7c-1b2d3e4f5a6b"
    resources = copy.deepcopy(eligible_resources())
    entries = []
    for n, resource in enumerate(resources):
        resource["id"] = f"5c0ffee0-0000-4000-8000-00000000000{n}"
        resource["subject"] = {"reference": f"urn:uuid:{patient_id}"}
        entries.append(resource)
    patient = {"resourceType": "Patient", "id": patient_id, "gender": "female"}

    def collection(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in items],
        }

    prefetch = {
        "patient": patient,
        "conditions": collection([r for r in entries if r["resourceType"] == "Condition"]),
        "observations": collection([r for r in entries if r["resourceType"] == "Observation"]),
        "medications": None,
        "statements": None,
        "reports": None,
        "allergies": None,
    }
    body = hook_request("patient-view", prefetch)
    body["context"]["patientId"] = patient_id
    assert decision(client.post(PV, json=body)) == "offer"
    # the same record said to be someone else's is refused
    body["context"]["patientId"] = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
    assert client.post(PV, json=body).status_code == 422


def test_eligible_woman_recorded_with_real_codes_is_offered(client):
    """Codes as systems write them: several codings, displays, categories, encounter links, an
    unrelated active medicine; every fact from a code already in the value sets."""
    encounter = {"reference": "Encounter/epau-1"}
    threatened = condition("tm", "54048003", day(-1), encounter=encounter)
    threatened["code"]["coding"][0]["display"] = "Threatened miscarriage"
    threatened["code"]["coding"].append({"system": "https://trust.example/local", "code": "TM1"})
    threatened["category"] = [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                     "code": "encounter-diagnosis"}]}
    ]  # fmt: skip
    history = condition("hx", "161744009", None, recordedDate="2023-11-20")
    scan = iup()
    scan["code"]["coding"][0]["display"] = "Antenatal ultrasound confirms intrauterine pregnancy"
    scan["category"] = [{"coding": [{"code": "imaging"}]}]
    scan["encounter"] = encounter
    length = crl(0.95, "cm")
    period = lmp()
    period["code"]["text"] = "LMP"
    folic = {
        "resourceType": "MedicationRequest",
        "id": "folic",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        # coded as EHRs send it (a dm+d code; the code itself is not checked): a medicine
        # named by free text alone cannot be told not to be progesterone (Unknown)
        "medicationCodeableConcept": {
            "coding": [{"system": "https://dmd.nhs.uk", "code": "0000003"}],
            "text": "Folic acid 400 microgram tablets",
        },
        "authoredOn": day(-20),
    }
    prefetch = prefetch_for([threatened, history, scan, length, period], [folic])
    prefetch["allergies"] = page([])
    (card,) = _cards(client, PV, hook_request("patient-view", prefetch))
    assert card["summary"].startswith("Offer vaginal progesterone")
    assert "1.5.2" in card["summary"] and "(version 2023-08-23)" in card["detail"]


@pytest.mark.parametrize("code", ["incomplete", "too-costly", "suppressed", "timeout"])
@pytest.mark.parametrize("severity", ["warning", "information"])
def test_outcome_saying_results_are_partial_is_412_whatever_its_severity(client, code, severity):
    """A server that could not return everything says so beside the results it could give."""
    conditions = page([previous_miscarriage(), bleeding()])
    partial = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": "results truncated"}],
    }
    conditions["entry"].append({"resource": partial, "search": {"mode": "outcome"}})
    prefetch = prefetch_for([lmp(), iup(), crl()])
    prefetch["conditions"] = conditions
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 412
    assert response.json()["errors"][0]["field"] == "prefetch.conditions"


def test_informational_outcome_beside_full_results_is_read(client):
    """HAPI-style "processing / informational" notes do not make the answer partial."""
    conditions = page([previous_miscarriage(), bleeding()])
    note = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": "ok"}],
    }
    conditions["entry"].append({"resource": note, "search": {"mode": "outcome"}})
    prefetch = prefetch_for([lmp(), iup(), crl()])
    prefetch["conditions"] = conditions
    assert decision(client.post(PV, json=hook_request("patient-view", prefetch))) == "offer"


def _batch_response(*searches: dict[str, Any]) -> dict[str, Any]:
    """A batch-response as servers answer a batch of searches (FHIR R4 http.html#transaction-
    response): one entry per search, its searchset Bundle as the resource, its status."""
    return {
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [{"resource": s, "response": {"status": "200 OK"}} for s in searches],
    }


def _conditions(extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [r for r in eligible_resources() if r["resourceType"] == "Condition"] + (extra or [])


def test_a_batch_response_of_whole_searches_is_read(client):
    """Each search's Bundle inside it is read: the ectopic pregnancy in one is seen."""
    prefetch = prefetch_for(eligible_resources())
    prefetch["conditions"] = _batch_response(page(_conditions([condition("e", "79586000", day())])))
    assert decision(client.post(PV, json=hook_request("patient-view", prefetch))) == "other"
    prefetch["conditions"] = _batch_response(page(_conditions(), total=2))
    assert decision(client.post(PV, json=hook_request("patient-view", prefetch))) == "offer"


PARTIAL_SEARCHES = {
    "next page": lambda: page(_conditions(), next_url=f"{FHIR}/Condition?page=2"),
    "total above its entries": lambda: page(_conditions(), total=3),
    "partial outcome": lambda: (
        page(_conditions())
        | {"entry": page(_conditions())["entry"] + [{"resource": outcome("warning", "incomplete")}]}
    ),
}


@pytest.mark.parametrize("shape", list(PARTIAL_SEARCHES))
def test_a_batch_response_holding_a_search_that_is_not_whole_is_412(client, shape):
    """A search inside a batch-response is a page as any other: one with a next page, fewer
    entries than its total or an outcome saying it is partial is not all her record."""
    prefetch = prefetch_for(eligible_resources())
    prefetch["conditions"] = _batch_response(PARTIAL_SEARCHES[shape]())
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 412
    assert response.json()["errors"][0]["field"] == "prefetch.conditions"


def test_a_batch_response_search_with_a_next_page_is_fetched_afresh(make_client):
    """With fhirServer, the key is fetched afresh (a searchset, read to its last page)."""
    fhir = FakeFhir()
    fhir.by_type["Condition"] = _conditions([condition("e", "79586000", day())])
    client = make_client(fhir_transport=fhir.transport)
    prefetch = _with_allergies([])
    prefetch["conditions"] = _batch_response(PARTIAL_SEARCHES["next page"]())
    body = with_server(hook_request("patient-view", prefetch))
    assert decision(client.post(PV, json=body)) == "other"  # the ectopic on the server is seen
    assert [r.url.path for r in fhir.seen] == ["/fhir/Condition"]


# --- allergies that could not be checked ------------------------------------------------------


def test_allergies_left_out_without_a_server_choose_no_product(client):
    """Peanut/soya allergy unknown: never Utrogestan on a false "no allergies"."""
    prefetch = prefetch_for(eligible_resources())
    del prefetch["allergies"]
    (card,) = _cards(client, PV, hook_request("patient-view", prefetch))
    assert card["summary"].startswith("Offer")  # the decision does not depend on allergies
    order = _offer_order(card)
    assert "product not chosen" in order["medicationCodeableConcept"]["text"]
    assert "Utrogestan" not in order["medicationCodeableConcept"]["text"]
    assert order["dispenseRequest"]["quantity"] == {"value": 28, "unit": "dose"}
    assert "Allergies could not be checked" in card["detail"]
    assert "No allergies are recorded" not in card["detail"]
    assert "prefetch.allergies: allergies could not be checked" in card["detail"]
    text = json.dumps(card)  # CDS Hooks: no null or empty values
    assert ": null" not in text and ': ""' not in text and ": []" not in text


def test_allergy_fetch_that_fails_chooses_no_product(make_client):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    client = make_client(fhir_transport=FakeFhir(answer).transport)
    prefetch = prefetch_for(eligible_resources())
    del prefetch["allergies"]
    (card,) = _cards(client, PV, with_server(hook_request("patient-view", prefetch)))
    assert "product not chosen" in _offer_order(card)["medicationCodeableConcept"]["text"]


def test_allergy_coded_without_a_name_chooses_no_product(client):
    """SNOMED 91935009 "Allergy to peanut" sent as a bare code: it cannot be read as peanut."""
    coded = allergy("a1", {"coding": [{"system": SNOMED, "code": "91935009"}]})
    (card,) = _cards(client, PV, hook_request("patient-view", _with_allergies([coded])))
    assert "product not chosen" in _offer_order(card)["medicationCodeableConcept"]["text"]
    assert "carry a code but no name" in card["detail"]


def test_allergies_read_as_none_recorded_keep_the_preferred_product(client):
    """An empty allergy search is a real "none recorded": the unit's product, with the check."""
    for allergies in ([], None):
        (card,) = _cards(client, PV, hook_request("patient-view", _with_allergies(allergies)))
        assert "Utrogestan" in _offer_order(card)["medicationCodeableConcept"]["text"]
        assert "No allergies are recorded: ask about peanut and soya allergy" in card["detail"]


def test_named_peanut_allergy_avoids_soya_products(client):
    peanut = allergy(
        "a2", {"coding": [{"system": SNOMED, "code": "91935009", "display": "Allergy to peanut"}]}
    )
    refuted_unnamed = allergy("a3", {"coding": [{"system": SNOMED, "code": "300913006"}]})
    refuted_unnamed["verificationStatus"]["coding"][0]["code"] = "refuted"
    body = hook_request("patient-view", _with_allergies([peanut, refuted_unnamed]))
    (card,) = _cards(client, PV, body)
    text = _offer_order(card)["medicationCodeableConcept"]["text"]
    assert "Cyclogest" in text and "Utrogestan" not in text


def test_order_sign_with_allergies_unknown_says_so(client):
    prefetch = prefetch_for(eligible_resources())
    del prefetch["allergies"]
    order = progesterone_order(end="2024-05-06")
    body = hook_request("order-sign", prefetch, draftOrders=bundle([order]))
    (card,) = _cards(client, SIGN, body)
    assert "allergies could not be checked" in card["detail"]


# --- order-select / order-sign: draft orders as real systems code them ---------------------------


def test_spec_order_select_example_shape_is_answered(client):
    """The spec's R4 example: a NutritionOrder beside the MedicationRequest, `doseAndRate` as
    one object, no fullUrl, both selected. Answered (it was a 500)."""
    order = progesterone_order("smart-MedicationRequest-103", end="2024-05-06")
    order["dosageInstruction"][0]["doseAndRate"] = order["dosageInstruction"][0]["doseAndRate"][0]
    order["meta"] = {"lastUpdated": "2018-04-30T13:25:40.845-04:00"}
    diet = {
        "resourceType": "NutritionOrder",
        "id": "pureeddiet-simple",
        "status": "draft",
        "intent": "order",
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "dateTime": "2014-09-17",
        "orderer": {"reference": "Practitioner/example", "display": "Dr Adam Careful"},
    }
    body = hook_request(
        "order-select",
        prefetch_for(eligible_resources()),
        encounterId="89284",
        selections=["NutritionOrder/pureeddiet-simple", "MedicationRequest/smart-MedicationRequest-103"],
        draftOrders={"resourceType": "Bundle", "entry": [{"resource": diet}, {"resource": order}]},
    )  # fmt: skip
    (card,) = _cards(client, SELECT, body)
    assert card["indicator"] == "info" and "consistent" in card["summary"]


@pytest.mark.parametrize(
    "concept",
    [
        {"coding": [{"system": DMD, "code": "39708911000001106",
                     "display": "Progesterone 200mg pessaries"}]},
        {"coding": [{"system": DMD, "code": "3986011000001102",
                     "display": "Utrogestan Vaginal 200mg capsules (Besins Healthcare (UK) Ltd)"}]},
        {"coding": [{"system": RXNORM, "code": "8727", "display": "progesterone"}]},
        {"coding": [{"system": RXNORM, "code": "8727"}]},
        {"text": "progesterone 400 mg pessary"},
    ],
)  # fmt: skip
def test_progesterone_draft_order_coded_as_systems_code_it_is_checked(client, concept):
    order = progesterone_order(dose_mg=200)
    order["medicationCodeableConcept"] = concept
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    (card,) = _cards(client, SIGN, body)
    assert card["indicator"] == "warning" and "dose is 200 mg" in card["detail"]


def test_medication_reference_to_a_medication_in_draft_orders_is_checked(client):
    """EHRs that order a Medication by reference send it in the draftOrders Bundle."""
    order = progesterone_order(dose_mg=200)
    del order["medicationCodeableConcept"]
    medication = {
        "resourceType": "Medication",
        "id": "med-77",
        "code": {"coding": [{"system": DMD, "code": "39708911000001106",
                             "display": "Progesterone 200mg pessaries"}]},
    }  # fmt: skip
    for reference in ("Medication/med-77", f"{FHIR}/Medication/med-77", "urn:uuid:a1b2"):
        order["medicationReference"] = {"reference": reference}
        draft = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": "urn:uuid:c3d4", "resource": order},
                {"fullUrl": "urn:uuid:a1b2", "resource": medication},
            ],
        }
        body = hook_request("order-sign", prefetch_for(eligible_resources()), draftOrders=draft)
        (card,) = _cards(client, SIGN, body)
        assert card["indicator"] == "warning", reference


@pytest.mark.parametrize(
    "reference",
    [
        f"Patient/{PATIENT_ID}",
        f"{FHIR}/Patient/{PATIENT_ID}",
        f"Patient/{PATIENT_ID}/_history/3",
        f"urn:uuid:{PATIENT_ID}",
    ],
)
def test_draft_order_subject_in_every_form_is_checked(client, reference):
    order = progesterone_order(end="2024-05-06")
    order["subject"] = {"reference": reference, "display": "Jane Example", "type": "Patient"}
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    (card,) = _cards(client, SIGN, body)
    assert "consistent" in card["summary"]


@pytest.mark.parametrize(
    "subject",
    [
        {"reference": f"Patient/{OTHER_PATIENT}"},
        {"reference": f"{FHIR}/Patient/{OTHER_PATIENT}"},
        {"display": "Jane Example"},
        {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}},
    ],
)
def test_draft_order_not_tied_to_this_patient_is_refused(client, subject):
    order = progesterone_order()
    order["subject"] = subject
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    response = client.post(SIGN, json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "context.draftOrders"


@pytest.mark.parametrize(
    "selection",
    ["MedicationRequest/d1", "d1", f"{FHIR}/MedicationRequest/d1", "urn:uuid:9f1e"],
)
def test_order_select_selection_in_every_form_is_checked(client, selection):
    chosen = progesterone_order("d1", dose_mg=200)
    other = progesterone_order("d2")
    draft = {
        "resourceType": "Bundle",
        "entry": [
            {"fullUrl": "urn:uuid:9f1e", "resource": chosen},
            {"fullUrl": "urn:uuid:0a0b", "resource": other},
        ],
    }
    body = hook_request(
        "order-select",
        prefetch_for(eligible_resources()),
        draftOrders=draft,
        selections=[selection],
    )
    (card,) = _cards(client, SELECT, body)
    assert "dose is 200 mg" in card["detail"]


def test_unsaved_draft_order_without_id_is_selected_by_its_full_url(client):
    order = progesterone_order(dose_mg=200)
    del order["id"]
    draft = {"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:77aa", "resource": order}]}
    body = hook_request(
        "order-select",
        prefetch_for(eligible_resources()),
        draftOrders=draft,
        selections=["urn:uuid:77aa"],
    )
    (card,) = _cards(client, SELECT, body)
    assert card["indicator"] == "warning"
    assert not any(a["type"] == "delete" for a in card["suggestions"][0]["actions"])


@pytest.mark.parametrize(
    "dosage",
    [
        {"timing": {"repeat": {"frequency": "bid", "period": 1, "periodUnit": "d"}}},
        {"timing": [{"code": {"text": "BID"}}], "doseAndRate": "400 mg"},
        {"doseAndRate": [{"doseQuantity": {"value": "400", "unit": "mg"}}], "route": "PV"},
    ],
)
def test_dosage_not_in_r4_shape_is_not_checked_never_a_crash(client, dosage):
    order = progesterone_order()
    order["dosageInstruction"] = [dosage]
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    (card,) = _cards(client, SIGN, body)
    assert "Not checked:" in card["detail"]


def test_single_dosage_object_is_read_as_a_list_of_one(client):
    order = progesterone_order(per_day=3)
    order["dosageInstruction"] = order["dosageInstruction"][0]
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    (card,) = _cards(client, SIGN, body)
    assert "3 doses a day" in card["detail"]


def test_draft_orders_for_other_medicines_need_no_data(client):
    """No progesterone in draftOrders: no card, and no prefetch needed (no 412)."""
    order = progesterone_order(text="Ferrous fumarate 210 mg tablets")
    order["medicationCodeableConcept"]["coding"] = [
        {"system": RXNORM, "code": "310325", "display": "ferrous fumarate 210 MG Oral Tablet"}
    ]
    assert _cards(client, SIGN, hook_request("order-sign", None, draftOrders=bundle([order]))) == []


def test_ectopic_on_record_warns_on_a_dmd_coded_order(client):
    """Never a silent order check: a dm+d coded order for a woman with an ectopic warns."""
    resources = [*eligible_resources(), condition("ect", "34801009", day())]
    order = progesterone_order()
    order["medicationCodeableConcept"] = {
        "coding": [{"system": DMD, "code": "39708911000001106",
                    "display": "Progesterone 200mg pessaries"}]
    }  # fmt: skip
    body = hook_request("order-sign", prefetch_for(resources), draftOrders=bundle([order]))
    (card,) = _cards(client, SIGN, body)
    assert card["indicator"] == "warning" and "not supported" in card["summary"]


def test_observation_with_value_as_scan_finding_code_is_read(client):
    """A generic "procedure findings" code with the IUP finding as its value."""
    finding = observation(
        "uss",
        LOINC,
        "59776-5",
        day(),
        valueCodeableConcept={"coding": [{"system": SNOMED, "code": "370383002"}]},
    )
    resources = [previous_miscarriage(), bleeding(), lmp(), finding, crl()]
    body = hook_request("patient-view", prefetch_for(resources))
    assert decision(client.post(PV, json=body)) == "offer"


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ({"value": 400, "unit": "milligram", "system": SNOMED, "code": "258684004"}, "consistent"),
        ({"value": 0.2, "unit": "gram", "system": SNOMED, "code": "258682000"}, "dose is 200 mg"),
        ({"value": 400, "unit": "MG"}, "consistent"),
        ({"value": 1, "unit": "pessary", "system": SNOMED, "code": "733007009"}, "dose (no dose"),
    ],
)
def test_uk_dose_units_are_read(client, quantity, expected):
    """UK Core / dm+d dose quantities carry SNOMED CT units; a dose in pessaries is not checked."""
    order = progesterone_order(end="2024-05-06")
    order["dosageInstruction"][0]["doseAndRate"] = [{"doseQuantity": quantity}]
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    (card,) = _cards(client, SIGN, body)
    # card.detail is Markdown built from escaped text (earlypath.fhir.cards.md): read it unescaped
    assert expected in card["summary"] + re.sub(r"\\(.)", r"\1", card["detail"])
    dose_read = quantity["unit"] != "pessary"
    assert ("Not checked: dose" in card["detail"]) is not dose_read


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("route", {"coding": True}),
        ("route", {"coding": 7, "text": ["vaginal"]}),
        ("timing", {"code": {"coding": "BID"}}),
        ("medication", {"coding": "progesterone", "text": "Utrogestan 200 mg"}),
    ],
)
def test_malformed_codings_in_a_draft_order_are_never_a_crash(client, where, value):
    """Draft orders are not parsed as FHIR: a coding that is not a list of objects matches
    nothing (it was a 500)."""
    order = progesterone_order()
    if where == "medication":
        order["medicationCodeableConcept"] = value
    else:
        order["dosageInstruction"][0][where] = value
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    response = client.post(SIGN, json=body)
    assert response.status_code == 200


def test_route_as_a_bare_coding_is_still_read(client):
    order = progesterone_order(end="2024-05-06")
    order["dosageInstruction"][0]["route"] = {"system": SNOMED, "code": "16857009"}
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    (card,) = _cards(client, SIGN, body)
    assert "consistent" in card["summary"]


@pytest.mark.parametrize(
    ("server", "base"),
    [
        ("http://fhir.example.com", "http://fhir.example.com"),
        ("http://fhir.example.com/", "http://fhir.example.com"),
        ("https://fhir.example.com:8443/r4/tenant-1/", "https://fhir.example.com:8443/r4/tenant-1"),
    ],
)
def test_fhir_server_at_a_root_or_tenant_path_is_fetched_under_it(make_client, server, base):
    """Da Vinci samples give a bare host; multi-tenant EHRs a tenant path with a port."""
    fhir = FakeFhir()
    client = make_client(fhir_transport=fhir.transport)
    prefetch = prefetch_for(eligible_resources())
    del prefetch["allergies"], prefetch["patient"]
    body = hook_request("patient-view", prefetch)
    body["fhirServer"] = server
    body["user"] = "Practitioner/example"  # an extra top-level field some clients send
    assert decision(client.post(PV, json=body)) == "offer"
    assert sorted(str(r.url).split("?")[0] for r in fhir.seen) == [
        f"{base}/AllergyIntolerance",
        f"{base}/Patient/{PATIENT_ID}",
    ]


SOYA_PRODUCTS = ("Utrogestan", "Prometrium")
unknown_allergies = st.sampled_from(["left out", "coded only", "coded only and inactive peanut"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    how=unknown_allergies,
    hook=st.sampled_from(["patient-view", "order-sign"]),
    dose=st.sampled_from([400, 200]),
    on_progesterone=st.booleans(),
)
def test_allergies_unknown_never_yield_a_soya_product(client, how, hook, dose, on_progesterone):
    """Whatever the decision, no card or suggested order names a soya-lecithin product when the
    allergy list could not be checked."""
    medications = []
    if on_progesterone:
        current = progesterone_order("current", text="Utrogestan 200 mg vaginal capsules")
        current.update(status="active", authoredOn=day(-2))
        medications.append(current)
    prefetch = prefetch_for(eligible_resources(), medications)
    if how == "left out":
        del prefetch["allergies"]
    else:
        unnamed = allergy("u1", {"coding": [{"system": SNOMED, "code": "91935009"}]})
        others = []
        if "inactive" in how:
            others.append(allergy("p1", {"text": "peanut"}))
            others[0]["clinicalStatus"]["coding"][0]["code"] = "inactive"
        prefetch["allergies"] = page([unnamed, *others])
    order = progesterone_order(dose_mg=dose, text="progesterone 400 mg pessary")
    body = hook_request(hook, prefetch, draftOrders=bundle([order]))
    cards = _cards(client, PV if hook == "patient-view" else SIGN, body)
    assert cards
    for card in cards:
        assert "allergies could not be checked" in card["detail"]
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                if action["type"] != "create":
                    continue
                resource = action["resource"]  # the product it names, and how it is dosed
                named = json.dumps(
                    [resource["medicationCodeableConcept"], resource["dosageInstruction"]]
                )
                assert "product not chosen" in named
                assert not any(name in named for name in SOYA_PRODUCTS)
