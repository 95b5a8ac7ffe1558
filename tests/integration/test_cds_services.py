"""CDS Hooks 2.0.1 services: discovery, cards, suggestions, order checks, 412, FHIR fetch."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from tests.integration.fhir_data import (
    PATIENT_ID,
    bleeding,
    bundle,
    condition,
    crl,
    eligible_resources,
    hook_request,
    iup,
    lmp,
    observation,
    prefetch_for,
    previous_miscarriage,
    progesterone_order,
)

PV = "/cds-services/ng126-progesterone"
SIGN = "/cds-services/ng126-progesterone-order-sign"
SELECT = "/cds-services/ng126-progesterone-order-select"
NICE = "https://www.nice.org.uk/guidance/ng126"


def _check_card(card):
    assert len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"].startswith("NICE NG126")
    assert card["source"]["url"] == NICE
    assert card["uuid"]
    if "suggestions" in card:
        assert card["selectionBehavior"] in ("at-most-one", "any")
        for s in card["suggestions"]:
            assert s["label"] and s["uuid"]
    # CDS Hooks: no null or empty values
    text = json.dumps(card)
    assert ": null" not in text and ": []" not in text and ": {}" not in text and ': ""' not in text


def _cards(client, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    for card in cards:
        _check_card(card)
    return cards


def test_discovery_lists_three_hooks_with_prefetch(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = response.json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "order-sign", "order-select"}
    for s in services:
        assert s["id"] and s["description"] and s["title"]
        prefetch = s["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        for key in ("conditions", "observations", "medications"):
            assert "{{context.patientId}}" in prefetch[key]
        assert prefetch["conditions"].startswith("Condition?")
        assert prefetch["observations"].startswith("Observation?")
        assert prefetch["medications"].startswith("MedicationRequest?")


def test_eligible_woman_gets_offer_card_with_medication_request(client):
    cards = _cards(client, PV, hook_request("patient-view", prefetch_for(eligible_resources())))
    assert len(cards) == 1
    card = cards[0]
    assert "Offer" in card["summary"] and "2024-05-06" in card["summary"]
    assert card["selectionBehavior"] == "at-most-one"
    for needle in (
        "1.5.2",
        "1.5.3",
        "2023-08-23",
        "She has vaginal bleeding",
        "2024-05-06",
        "Off-label",
    ):
        assert needle in card["detail"]
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "create"
    order = action["resource"]
    MedicationRequest.model_validate(order)  # valid FHIR R4
    assert order["subject"]["reference"] == f"Patient/{PATIENT_ID}"
    dosage = order["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 400
    assert dosage["doseAndRate"][0]["doseQuantity"]["code"] == "mg"
    assert dosage["route"]["coding"][0]["code"] == "16857009"
    repeat = dosage["timing"]["repeat"]
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (2, 1, "d")
    assert dosage["timing"]["repeat"]["boundsPeriod"]["end"] == "2024-05-06"
    assert order["dispenseRequest"]["validityPeriod"]["end"] == "2024-05-06"


def test_needs_information_card_names_what_is_missing(client):
    resources = [bleeding(), lmp(), iup(), crl()]  # nothing about previous miscarriages
    (card,) = _cards(client, PV, hook_request("patient-view", prefetch_for(resources)))
    assert card["indicator"] == "info"
    assert "previous miscarriages" in card["summary"]
    assert "suggestions" not in card


def test_no_bleeding_record_means_unknown_not_no(client):
    resources = [previous_miscarriage(), lmp(), iup(), crl()]
    (card,) = _cards(client, PV, hook_request("patient-view", prefetch_for(resources)))
    assert "vaginal bleeding" in card["summary"]
    assert "needs" in card["summary"]


def test_bleeding_observed_absent_is_no(client):
    absent = observation(
        "bleed-obs",
        "http://snomed.info/sct",
        "289530006",
        "2024-03-04",
        valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "2667000"}]},
    )
    resources = [previous_miscarriage(), lmp(), iup(), crl(), absent]
    (card,) = _cards(client, PV, hook_request("patient-view", prefetch_for(resources)))
    assert "not recommended" in card["summary"]
    assert "no vaginal bleeding" in card["detail"]


def test_unparseable_resource_is_reported_not_fatal(client):
    broken = {"resourceType": "Observation", "id": "broken-1", "status": "final"}  # no code
    # its own id: one sharing the eligible record's CRL id is a second version of that
    # finding (stop 28: versions that cannot be ordered are held back, not read)
    bad_unit = {**crl(value=1, unit="[in_i]"), "id": "crl-bad-unit"}
    resources = eligible_resources() + [broken]
    prefetch = prefetch_for(resources)
    prefetch["observations"]["entry"].append({"resource": bad_unit})
    (card,) = _cards(client, PV, hook_request("patient-view", prefetch))
    assert "Observation/broken-1" in card["detail"]
    assert "not mm or cm" in card["detail"]


def test_ectopic_pregnancy_order_sign_warns(client):
    resources = [
        previous_miscarriage(),
        bleeding(),
        lmp(),
        condition("ect", "34801009", "2024-03-04"),
    ]
    body = hook_request(
        "order-sign", prefetch_for(resources), draftOrders=bundle([progesterone_order()])
    )
    (card,) = _cards(client, SIGN, body)
    assert card["indicator"] == "warning"
    assert "ectopic" in card["summary"].lower() or "ectopic" in card["detail"].lower()


@pytest.mark.parametrize(
    ("resources", "why"),
    [
        ([previous_miscarriage(), bleeding(), lmp()], "needs"),  # no scan: needs information (info)
        (
            [
                previous_miscarriage(),
                lmp(),
                iup(),
                crl(),
                condition(
                    "bleed",
                    "289530006",
                    "2024-03-01",
                    verificationStatus={"coding": [{"code": "refuted"}]},
                ),
            ],
            "no vaginal bleeding",
        ),
        (
            [
                condition(
                    "h0", "161744009", None, verificationStatus={"coding": [{"code": "refuted"}]}
                ),
                bleeding(),
                lmp(),
                iup(),
                crl(),
            ],
            "no previous miscarriage",
        ),
        (
            [
                condition(
                    "h0", "161744009", None, verificationStatus={"coding": [{"code": "refuted"}]}
                ),
                previous_miscarriage(),
                bleeding(),
                lmp(),
                iup(),
                crl(),
            ],
            "consistent",
        ),
    ],
)
def test_order_sign_without_support(client, resources, why):
    body = hook_request(
        "order-sign", prefetch_for(resources), draftOrders=bundle([progesterone_order()])
    )
    (card,) = _cards(client, SIGN, body)
    text = card["summary"] + card["detail"]
    assert why in text
    if why not in ("needs", "consistent"):
        assert card["indicator"] == "warning"


@pytest.fixture
def past_16_weeks():
    # LMP 17 weeks before today: past 16+0.
    return [previous_miscarriage(), bleeding(), lmp("2023-11-06"), iup("2024-03-04")]


def test_order_sign_past_16_weeks_warns(client, past_16_weeks):
    body = hook_request(
        "order-sign", prefetch_for(past_16_weeks), draftOrders=bundle([progesterone_order()])
    )
    (card,) = _cards(client, SIGN, body)
    assert card["indicator"] == "warning"
    assert "16+0" in card["summary"] + card["detail"]


def test_order_sign_ectopic_observation_and_no_iup_warn(client):
    resources = [
        previous_miscarriage(),
        bleeding(),
        lmp(),
        observation("ect", "http://snomed.info/sct", "34801009", "2024-03-04"),
    ]
    body = hook_request(
        "order-sign", prefetch_for(resources), draftOrders=bundle([progesterone_order()])
    )
    (card,) = _cards(client, SIGN, body)
    assert card["indicator"] == "warning"


@pytest.mark.parametrize(
    ("order", "difference"),
    [
        (progesterone_order(dose_mg=200), "dose is 200 mg"),
        (progesterone_order(route_code="26643006"), "route is not vaginal"),
        (progesterone_order(per_day=1), "1 doses a day"),
        (progesterone_order(end="2024-06-30"), "past the stop date 2024-05-06"),
    ],
)
def test_order_that_differs_from_plan_warns(client, order, difference):
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    (card,) = _cards(client, SIGN, body)
    assert card["indicator"] == "warning"
    assert difference in card["summary"] + card["detail"]
    assert card["selectionBehavior"] == "at-most-one"
    actions = card["suggestions"][0]["actions"]
    assert actions[0] == {
        "type": "delete",
        "description": actions[0]["description"],
        "resourceId": "MedicationRequest/draft-1",
    }
    MedicationRequest.model_validate(actions[1]["resource"])


def test_order_matching_plan_is_info(client):
    body = hook_request(
        "order-sign",
        prefetch_for(eligible_resources()),
        draftOrders=bundle([progesterone_order(end="2024-05-06")]),
    )
    (card,) = _cards(client, SIGN, body)
    assert card["indicator"] == "info"
    assert "consistent" in card["summary"]


def test_order_select_checks_only_selected_orders(client):
    orders = bundle([progesterone_order("a", dose_mg=200), progesterone_order("b")])
    body = hook_request(
        "order-select",
        prefetch_for(eligible_resources()),
        draftOrders=orders,
        selections=["MedicationRequest/b"],
    )
    (card,) = _cards(client, SELECT, body)
    assert card["indicator"] == "info"
    body["context"]["selections"] = ["MedicationRequest/a"]
    (card,) = _cards(client, SELECT, body)
    assert card["indicator"] == "warning"


def test_order_hooks_ignore_other_medicines(client):
    order = progesterone_order(text="Paracetamol 500 mg tablets")
    body = hook_request("order-sign", None, draftOrders=bundle([order]))
    assert _cards(client, SIGN, body) == []


def test_missing_prefetch_without_fhir_server_is_412(client):
    response = client.post(PV, json=hook_request("patient-view", None))
    assert response.status_code == 412
    partial = prefetch_for(eligible_resources())
    del partial["observations"]
    assert client.post(PV, json=hook_request("patient-view", partial)).status_code == 412


def test_null_prefetch_means_no_data_not_missing(client):
    prefetch = {
        "patient": None,
        "conditions": None,
        "observations": None,
        "medications": None,
        "statements": None,
        "reports": None,
    }
    # no data at all: no pregnancy in the record, so patient-view stays silent (not a 412)
    assert _cards(client, PV, hook_request("patient-view", prefetch)) == []
    prefetch["observations"] = bundle([lmp()])
    (card,) = _cards(client, PV, hook_request("patient-view", prefetch))
    assert "needs" in card["summary"]


def test_patient_view_is_silent_without_a_pregnancy_in_the_record(client):
    only_history = prefetch_for([previous_miscarriage()])
    assert _cards(client, PV, hook_request("patient-view", only_history)) == []
    # a bleed that cannot be placed (no LMP or CRL) still shows a pregnancy may be there
    (card,) = _cards(client, PV, hook_request("patient-view", prefetch_for([bleeding()])))
    assert "needs" in card["summary"] and "cannot be placed" in card["detail"]


def _fhir_server(resources, seen):
    by_type = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        kind = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json=bundle(by_type.get(kind, [])))

    return httpx.MockTransport(handler)


def test_fetches_from_fhir_server_with_bearer_token_when_not_prefetched(make_client):
    seen: list[httpx.Request] = []
    client = make_client(fhir_transport=_fhir_server(eligible_resources(), seen))
    body = hook_request("patient-view", None)
    body["fhirServer"] = "https://fhir.example.org/r4"
    body["fhirAuthorization"] = {
        "access_token": "tok-SECRET-991",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "earlypath",
    }
    (card,) = _cards(client, PV, body)
    assert "Offer" in card["summary"]
    assert {r.url.path for r in seen} == {
        "/r4/Condition",
        "/r4/Observation",
        "/r4/MedicationRequest",
        "/r4/MedicationStatement",
        "/r4/AllergyIntolerance",
        "/r4/DiagnosticReport",
        "/r4/Procedure",
        "/r4/MedicationAdministration",
        "/r4/ImagingStudy",
        f"/r4/Patient/{PATIENT_ID}",
    }
    assert all(r.headers["authorization"] == "Bearer tok-SECRET-991" for r in seen)
    assert all(r.url.params.get("patient", PATIENT_ID) == PATIENT_ID for r in seen)


def test_fetch_failure_is_412(make_client):
    def broken(request):
        raise httpx.ConnectError("down")

    client = make_client(fhir_transport=httpx.MockTransport(broken))
    body = hook_request("patient-view", None)
    body["fhirServer"] = "https://fhir.example.org/r4"
    assert client.post(PV, json=body).status_code == 412
    client2 = make_client(fhir_transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    assert client2.post(PV, json=body).status_code == 412


def test_bad_requests_are_400(client):
    assert client.post(PV, content="{nope").status_code == 400
    wrong_hook = hook_request("order-sign", prefetch_for([]))
    assert client.post(PV, json=wrong_hook).status_code == 400
    no_patient = hook_request("patient-view", prefetch_for([]))
    del no_patient["context"]["patientId"]
    assert client.post(PV, json=no_patient).status_code == 400
    assert (
        client.post("/cds-services/nope", json=hook_request("patient-view", None)).status_code
        == 404
    )


# --- the specification's own examples (CDS Hooks 2.0) ------------------------------------------

SPEC_REQUEST = {
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "fhirServer": "http://hooks.smarthealthit.org:9080",
    "hook": "patient-view",
    "fhirAuthorization": {
        "access_token": "some-opaque-fhir-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/Patient.read patient/Observation.read",
        "subject": "cds-service4",
    },
    "context": {"userId": "Practitioner/example", "patientId": "1288992", "encounterId": "89284"},
    "prefetch": {
        "patientToGreet": {
            "resourceType": "Patient",
            "gender": "male",
            "birthDate": "1925-12-23",
            "id": "1288992",
            "active": True,
        }
    },
}


def test_spec_request_example_fetches_what_was_not_prefetched(make_client):
    seen: list[httpx.Request] = []
    client = make_client(fhir_transport=_fhir_server([], seen))
    # The example patient has no pregnancy on record: a valid call, and nothing to say.
    assert _cards(client, PV, copy.deepcopy(SPEC_REQUEST)) == []
    assert {r.url.host for r in seen} == {"hooks.smarthealthit.org"}
    assert {r.url.path for r in seen} >= {"/Condition", "/Observation", "/MedicationRequest"}
    assert all(r.headers["authorization"] == "Bearer some-opaque-fhir-access-token" for r in seen)


def test_spec_request_example_without_reachable_server_is_412(make_client):
    client = make_client(
        fhir_transport=httpx.MockTransport(lambda r: (_ for _ in ()).throw(httpx.ConnectError("x")))
    )
    assert client.post(PV, json=copy.deepcopy(SPEC_REQUEST)).status_code == 412
