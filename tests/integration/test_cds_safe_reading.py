"""Issue 11, safe CDS reading: never decide on partial or foreign data.

Pagination, the token's scope, another patient's data, OperationOutcomes, patient ids in URLs.
"""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from earlypath.web.prefetch import MAX_PAGES
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
    patient_view,
    with_server,
)
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
    prefetch_for,
    previous_miscarriage,
    progesterone_order,
)

NEXT = f"{FHIR}/Condition?_getpages=a1b2&_getpagesoffset=1&_count=1"


def ectopic() -> dict:
    return condition("ect", "34801009", "2024-03-04")


def observations() -> dict:
    return bundle([lmp(), iup(), crl()])


# --- 1. pagination ------------------------------------------------------------------------------


def test_eligible_woman_in_pages_is_offered(make_client):
    fhir = FakeFhir()
    fhir.pages[NEXT] = page([bleeding()])
    client = make_client(fhir_transport=fhir.transport)
    conditions = page([previous_miscarriage()], NEXT, total=2)
    body = with_server(patient_view([lmp(), iup(), crl()], conditions=conditions))
    assert decision(client.post(PV, json=body)) == "offer"
    (request,) = fhir.seen
    assert str(request.url) == NEXT
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_page_two_is_read_before_deciding(make_client):
    """An ectopic pregnancy on page 2: page 1 alone would offer progesterone."""
    fhir = FakeFhir()
    fhir.pages[NEXT] = page([ectopic()])
    client = make_client(fhir_transport=fhir.transport)
    conditions = page([previous_miscarriage(), bleeding()], NEXT)
    body = with_server(patient_view([], conditions=conditions, observations=observations()))
    assert decision(client.post(PV, json=body)) == "other"
    assert len(fhir.seen) == 1


def test_paginated_prefetch_without_fhir_server_is_412(client):
    conditions = page([previous_miscarriage(), bleeding()], NEXT)
    response = client.post(
        PV, json=patient_view([], conditions=conditions, observations=observations())
    )
    assert response.status_code == 412
    assert response.json()["errors"][0]["field"] == "prefetch.conditions"


def test_more_pages_than_the_limit_is_412_not_a_partial_answer(make_client):
    def endless(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params["page"]) + 1
        return httpx.Response(200, json=page([], f"{FHIR}/Condition?page={n}"))

    fhir = FakeFhir(endless)
    client = make_client(fhir_transport=fhir.transport)
    conditions = page([previous_miscarriage(), bleeding()], f"{FHIR}/Condition?page=1")
    body = with_server(patient_view([], conditions=conditions, observations=observations()))
    assert client.post(PV, json=body).status_code == 412
    assert len(fhir.seen) == MAX_PAGES - 1


def test_fetched_search_is_read_to_its_last_page(make_client):
    later = f"{FHIR}/Condition?page=2"
    fhir = FakeFhir()
    fhir.by_type["Observation"] = [lmp(), iup(), crl()]
    fhir.pages[later] = page([ectopic()])

    def conditions(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Condition") and "page" not in request.url.params:
            return httpx.Response(200, json=page([previous_miscarriage(), bleeding()], later))
        return fhir.handler(request)

    client = make_client(fhir_transport=httpx.MockTransport(conditions))
    body = with_server(hook_request("patient-view", None))
    assert decision(client.post(PV, json=body)) == "other"
    assert later in [str(r.url) for r in fhir.seen]


def test_fewer_entries_than_the_total_is_412(client):
    conditions = page([previous_miscarriage(), bleeding()], total=3)
    body = patient_view([], conditions=conditions, observations=observations())
    assert client.post(PV, json=body).status_code == 412


# --- 2. the token goes only under fhirServer -----------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example.org/fhir/Condition?page=2",
        "https://ehr.example.org/fhir-evil/Condition?page=2",
        "https://ehr.example.org@evil.example.org/fhir/Condition?page=2",
        "https://ehr.example.org/fhir/../admin/Condition?page=2",
        "https://ehr.example.org/fhir/%2e%2e/admin?page=2",
        "https://ehr.example.org:8443/fhir/Condition?page=2",
        "http://ehr.example.org/fhir/Condition?page=2",
        "//evil.example.org/fhir/Condition?page=2",
        "https://ehr.example.org\\@evil.example.org/fhir/Condition",
        "javascript:alert(1)",
    ],
)
def test_next_link_outside_fhir_server_is_refused(make_client, caplog, link):
    caplog.set_level(logging.INFO)
    fhir = FakeFhir()
    client = make_client(fhir_transport=fhir.transport)
    conditions = page([previous_miscarriage(), bleeding()], link)
    body = with_server(patient_view([], conditions=conditions, observations=observations()))
    response = client.post(PV, json=body)
    assert response.status_code == 412
    (error,) = response.json()["errors"]
    assert error["field"] == "prefetch.conditions"
    assert "outside fhirServer" in error["message"]
    assert fhir.seen == []  # not followed, with or without the token
    assert "outside fhirServer" in caplog.text and "evil" not in caplog.text


@pytest.mark.parametrize(
    "link",
    [
        "https://EHR.example.org:443/fhir/Condition?page=2",
        "https://ehr.example.org/fhir/x/../Condition?page=2",
        "Condition?page=2",
        "https://ehr.example.org/fhir?_getpages=a1&_getpagesoffset=2",
    ],
)
def test_next_link_under_fhir_server_is_followed_normalised(make_client, link):
    fhir = FakeFhir(lambda request: httpx.Response(200, json=page([ectopic()])))
    client = make_client(fhir_transport=fhir.transport)
    conditions = page([previous_miscarriage(), bleeding()], link)
    body = with_server(patient_view([], conditions=conditions, observations=observations()))
    assert decision(client.post(PV, json=body)) == "other"
    (request,) = fhir.seen
    assert request.url.host == "ehr.example.org" and request.url.port in (None, 443)
    assert request.url.path.startswith("/fhir") and ".." not in request.url.path


def test_redirect_is_not_followed(make_client):
    fhir = FakeFhir(
        lambda request: httpx.Response(302, headers={"Location": "https://evil.example.org/x"})
    )
    client = make_client(fhir_transport=fhir.transport)
    body = with_server(hook_request("patient-view", None))
    assert client.post(PV, json=body).status_code == 412
    assert {r.url.host for r in fhir.seen} == {"ehr.example.org"}


# --- 3. another patient's data -----------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        {"reference": f"Patient/{OTHER_PATIENT}"},
        {"reference": f"https://ehr.example.org/fhir/Patient/{OTHER_PATIENT}"},
        {"reference": f"Patient/{OTHER_PATIENT}/_history/3"},
        {"reference": f"Patient/{PATIENT_ID}-2"},
        {"reference": "Group/ward-7"},
        {"reference": f"urn:uuid:{OTHER_PATIENT}"},
        {"reference": f"Patient?identifier=x|{OTHER_PATIENT}"},
        {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}},
        {"display": "Jane Doe"},
    ],
)
def test_resource_for_another_patient_fails_the_call(client, subject):
    foreign = bleeding()
    foreign["subject"] = subject
    body = patient_view([previous_miscarriage(), foreign, lmp(), iup(), crl()])
    response = client.post(PV, json=body)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "prefetch.conditions"
    assert OTHER_PATIENT not in response.text and PATIENT_ID not in response.text


@pytest.mark.parametrize(
    "reference",
    [
        f"Patient/{PATIENT_ID}",
        f"https://ehr.example.org/fhir/Patient/{PATIENT_ID}",
        f"Patient/{PATIENT_ID}/_history/7",
        f"https://ehr.example.org/fhir/Patient/{PATIENT_ID}/_history/7",
        f"urn:uuid:{PATIENT_ID}",
    ],
)
def test_own_references_in_every_form_are_read(client, reference):
    resources = eligible_resources()
    for r in resources:
        r["subject"] = {"reference": reference}
    assert decision(client.post(PV, json=patient_view(resources))) == "offer"


def test_included_patient_urn_reference_and_unowned_resources_are_read(client):
    conditions = page([previous_miscarriage(), bleeding()])
    urn = "urn:uuid:8f0c8c8e-52e2-4b5e-9d55-7f1d6f0e2b11"
    conditions["entry"][1]["resource"]["subject"] = {"reference": urn}
    conditions["entry"].append(
        {
            "fullUrl": urn,
            "resource": {"resourceType": "Patient", "id": PATIENT_ID},
            "search": {"mode": "include"},
        }
    )
    medications = page([{"resourceType": "Medication", "id": "med-1", "code": {"text": "x"}}])
    body = patient_view([lmp(), iup(), crl()], conditions=conditions, medications=medications)
    assert decision(client.post(PV, json=body)) == "offer"


@pytest.mark.parametrize("patient", [{"id": OTHER_PATIENT}, {"id": PATIENT_ID.upper()}])
def test_patient_resource_must_be_the_context_patient(client, patient):
    body = patient_view(eligible_resources(), patient={"resourceType": "Patient", **patient})
    response = client.post(PV, json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "prefetch.patient"


def test_included_patient_of_someone_else_fails_the_call(client):
    conditions = page([previous_miscarriage(), bleeding()])
    conditions["entry"].append(
        {
            "resource": {"resourceType": "Patient", "id": OTHER_PATIENT},
            "search": {"mode": "include"},
        }
    )
    body = patient_view([lmp(), iup(), crl()], conditions=conditions)
    assert client.post(PV, json=body).status_code == 422


def test_fetched_resource_for_another_patient_fails_the_call(make_client):
    fhir = FakeFhir()
    stranger = bleeding()
    stranger["subject"] = {"reference": f"Patient/{OTHER_PATIENT}"}
    fhir.by_type["Condition"] = [previous_miscarriage(), stranger]
    fhir.by_type["Observation"] = [lmp(), iup(), crl()]
    client = make_client(fhir_transport=fhir.transport)
    response = client.post(PV, json=with_server(hook_request("patient-view", None)))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "prefetch.conditions"


def test_fetched_page_for_another_patient_fails_the_call(make_client):
    stranger = ectopic()
    stranger["subject"] = {"reference": f"Patient/{OTHER_PATIENT}"}
    fhir = FakeFhir(lambda request: httpx.Response(200, json=page([stranger])))
    client = make_client(fhir_transport=fhir.transport)
    conditions = page([previous_miscarriage(), bleeding()], NEXT)
    body = with_server(patient_view([], conditions=conditions, observations=observations()))
    assert client.post(PV, json=body).status_code == 422


def test_fetched_patient_must_be_the_context_patient(make_client):
    def answer(request: httpx.Request) -> httpx.Response:
        if "/Patient/" in request.url.path:
            return httpx.Response(200, json={"resourceType": "Patient", "id": OTHER_PATIENT})
        return httpx.Response(200, json=bundle([]))

    client = make_client(fhir_transport=FakeFhir(answer).transport)
    prefetch = prefetch_for(eligible_resources())
    del prefetch["patient"]
    response = client.post(PV, json=with_server(hook_request("patient-view", prefetch)))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "prefetch.patient"


def test_draft_order_for_another_patient_is_refused(client):
    order = progesterone_order()
    order["subject"] = {"reference": f"Patient/{OTHER_PATIENT}"}
    body = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    response = client.post(SIGN, json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "context.draftOrders"
    assert OTHER_PATIENT not in response.text


# --- 4. OperationOutcome is "unavailable", never "none" ------------------------------------------


def test_operation_outcome_for_medications_is_412_not_no_medications(client):
    body = patient_view(eligible_resources(), medications=outcome())
    response = client.post(PV, json=body)
    assert response.status_code == 412
    assert response.json()["errors"][0]["field"] == "prefetch.medications"


@pytest.mark.parametrize("severity", ["error", "fatal"])
@pytest.mark.parametrize("mode", ["outcome", None])
def test_bundle_carrying_an_error_outcome_is_412(client, severity, mode):
    medications = page([])
    entry = {"resource": outcome(severity)}
    if mode:
        entry["search"] = {"mode": mode}
    medications["entry"].append(entry)
    body = patient_view(eligible_resources(), medications=medications)
    assert client.post(PV, json=body).status_code == 412


@pytest.mark.parametrize("severity", ["warning", "information"])
def test_bundle_with_a_warning_outcome_is_read(client, severity):
    medications = page([])
    medications["entry"].append({"resource": outcome(severity), "search": {"mode": "outcome"}})
    body = patient_view(eligible_resources(), medications=medications)
    assert decision(client.post(PV, json=body)) == "offer"


def test_operation_outcome_is_fetched_afresh_from_fhir_server(make_client):
    on_progesterone = progesterone_order(rid="active-1")
    on_progesterone["status"] = "active"
    fhir = FakeFhir()
    fhir.by_type["MedicationRequest"] = [on_progesterone]
    client = make_client(fhir_transport=fhir.transport)
    body = with_server(patient_view(eligible_resources(), medications=outcome()))
    assert decision(client.post(PV, json=body)) == "other"  # she is on it: not a new offer
    (request,) = fhir.seen
    assert request.url.path == "/fhir/MedicationRequest"
    assert request.url.params["patient"] == PATIENT_ID


def test_fetched_page_that_is_an_operation_outcome_is_412(make_client):
    fhir = FakeFhir(lambda request: httpx.Response(200, json=outcome()))
    client = make_client(fhir_transport=fhir.transport)
    conditions = page([previous_miscarriage(), bleeding()], NEXT)
    body = with_server(patient_view([], conditions=conditions, observations=observations()))
    assert client.post(PV, json=body).status_code == 412


def test_fetched_search_that_is_an_operation_outcome_is_412(make_client):
    fhir = FakeFhir(lambda request: httpx.Response(200, json=outcome()))
    client = make_client(fhir_transport=fhir.transport)
    assert client.post(PV, json=with_server(hook_request("patient-view", None))).status_code == 412


@pytest.mark.parametrize(
    "value",
    [
        {"resourceType": "Patient", "id": PATIENT_ID},
        {"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"}},
        "no medications",
        [],
        42,
        True,
        {"entry": []},
    ],
)
def test_prefetch_neither_bundle_nor_expected_type_is_412(client, value):
    body = patient_view(eligible_resources(), medications=value)
    assert client.post(PV, json=body).status_code == 412


def test_prefetched_single_resource_of_the_expected_type_is_read(client):
    order = progesterone_order(rid="active-1")
    order["status"] = "active"
    body = patient_view(eligible_resources(), medications=order)
    assert decision(client.post(PV, json=body)) == "other"


# --- 5. context.patientId is a FHIR id; query URLs are encoded ------------------------------------


@pytest.mark.parametrize(
    "patient_id",
    ["x/../../admin", "p1&_include=*", "..", ".", "a" * 65, "pat 1", "pät", "p1\n", "p1?x=1"],
)
def test_patient_id_must_be_a_fhir_id(make_client, patient_id):
    fhir = FakeFhir()
    client = make_client(fhir_transport=fhir.transport)
    body = with_server(hook_request("patient-view", None, patientId=patient_id))
    response = client.post(PV, json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "context.patientId"
    assert fhir.seen == []


def test_query_urls_are_built_from_the_templates_with_encoding(make_client):
    fhir = FakeFhir()
    client = make_client(fhir_transport=fhir.transport)
    body = with_server(hook_request("patient-view", None, patientId="A-1.b"))
    assert client.post(PV, json=body).status_code == 200
    paths = {r.url.path for r in fhir.seen}
    assert "/fhir/Patient/A-1.b" in paths and "/fhir/Condition" in paths
    for request in fhir.seen:
        if request.url.path.endswith("/Patient/A-1.b"):
            continue
        assert request.url.params.get_list("patient") == ["A-1.b"]
        assert set(request.url.params) <= {"patient", "code", "status", "_include"}
        # a medicines search includes the Medications its records name, and nothing else (stop 37)
        kind = request.url.path.rsplit("/", 1)[-1]
        assert request.url.params.get_list("_include") in ([], [f"{kind}:medication"])
    (obs,) = [r for r in fhir.seen if r.url.path.endswith("/Observation")]
    # All her Observations: a code list would miss findings carried as values and site codes.
    assert "code" not in obs.url.params


@pytest.mark.parametrize(
    "server",
    ["https://user:pw@ehr.example.org/fhir", "ftp://ehr.example.org/fhir", "ehr.example.org", ""],
)
def test_bad_fhir_server_is_400(client, server):
    body = with_server(hook_request("patient-view", None), server)
    response = client.post(PV, json=body)
    assert response.status_code == 400
    assert "fhirServer" in json.dumps(response.json())


def test_next_link_without_a_url_is_412(client):
    conditions = page([previous_miscarriage(), bleeding()])
    conditions["link"].append({"relation": "next"})
    body = patient_view([], conditions=conditions, observations=observations())
    assert client.post(PV, json=body).status_code == 412


def test_null_fhir_server_and_authorization_mean_none_given(client):
    body = patient_view(eligible_resources())
    body["fhirServer"] = None
    body["fhirAuthorization"] = None
    assert decision(client.post(PV, json=body)) == "offer"
