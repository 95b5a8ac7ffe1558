"""Her MedicationStatements reach the CDS service as her MedicationRequests do (issue 12, real
records): asked for in the discovery document with the statuses the reading counts, read from
prefetch, fetched from `fhirServer` when not prefetched (paging, errors and patient scope as for
every key), and required: without them "not on progesterone" would be a guess.

A GP record (UK Core / GP Connect) says she takes Utrogestan as a MedicationStatement; before,
an EHR honouring our prefetch never sent it and the service never fetched it: an offer of a second
prescription.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from earlypath.fhir.codes import status_list
from earlypath.web.cds import REQUIRED
from tests.integration.cds_reading import FHIR, TOKEN, FakeFhir, outcome, page, with_server
from tests.integration.fhir_data import (
    PATIENT_ID,
    bundle,
    eligible_resources,
    hook_request,
    prefetch_for,
)
from tests.records.real_shapes import CURRENCY_SHAPES, UTROGESTAN_DMD, statement

PV = "/cds-services/ng126-progesterone"
# the statuses the reading reads a medicine in: current, or unknown (on_progesterone unknown)
CURRENT = set(status_list("active_medication_status") | status_list("unknown_medication_status"))
# and a request that was prescribed (a past methotrexate for an ectopic pregnancy, stop 37)
PRESCRIBED = set(status_list("care_given_request_status"))


def _summary(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card["summary"]


def _without_statements() -> dict[str, Any]:
    prefetch = prefetch_for(eligible_resources())
    del prefetch["statements"]
    return prefetch


def _statuses(template: str) -> set[str] | None:
    """The statuses a search asks for; None when it asks for every status."""
    query = template.split("?", 1)[1]
    values = [v for k, _, v in (p.partition("=") for p in query.split("&")) if k == "status"]
    return set(values[0].split(",")) if values else None


def test_discovery_asks_for_her_statements_with_the_statuses_the_reading_counts(client):
    for service in client.get("/cds-services").json()["services"]:
        prefetch = service["prefetch"]
        assert prefetch["statements"].startswith("MedicationStatement?")
        assert "patient={{context.patientId}}" in prefetch["statements"]
        # the query filters out nothing the reading would count (on-hold too); since stop 37 a
        # statement is asked for in every status (a methotrexate taken for an ectopic is read in
        # all but not-taken and entered-in-error), a request in those it is read in
        assert _statuses(prefetch["statements"]) is None
        assert _statuses(prefetch["medications"]) == CURRENT | PRESCRIBED
    assert "statements" in REQUIRED


def test_a_statement_only_in_prefetch_says_she_is_on_progesterone(client):
    prefetch = prefetch_for(eligible_resources())
    prefetch["statements"] = bundle([statement(UTROGESTAN_DMD)])
    assert _summary(client.post(PV, json=hook_request("patient-view", prefetch))).startswith(
        "Continue"
    )


def test_a_statement_only_on_the_fhir_server_is_fetched_and_read(make_client):
    fhir = FakeFhir()
    fhir.by_type["MedicationStatement"] = [statement(UTROGESTAN_DMD)]
    client = make_client(fhir_transport=fhir.transport)
    body = with_server(hook_request("patient-view", _without_statements()))
    assert _summary(client.post(PV, json=body)).startswith("Continue")
    (request,) = fhir.seen
    assert request.url.path == "/fhir/MedicationStatement"
    assert request.url.params["patient"] == PATIENT_ID
    assert "status" not in request.url.params  # every status (stop 37)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_an_on_hold_request_is_asked_for(make_client):
    """A server that honours the status filter still sends an on-hold progesterone request (the
    reading counts it): the query asked for active only before."""

    def answer(request: httpx.Request) -> httpx.Response:
        wanted = set(request.url.params.get("status", "").split(","))
        on_hold = statement(UTROGESTAN_DMD, "on-hold")
        kind = request.url.path.rsplit("/", 1)[-1]
        if kind == "MedicationRequest":
            on_hold = {**on_hold, "resourceType": "MedicationRequest", "intent": "order"}
            for key in ("effectivePeriod", "dateAsserted"):
                on_hold.pop(key)
            return httpx.Response(200, json=bundle([on_hold] if "on-hold" in wanted else []))
        return httpx.Response(200, json=bundle([]))

    client = make_client(fhir_transport=FakeFhir(answer).transport)
    prefetch = prefetch_for(eligible_resources())
    del prefetch["medications"]
    body = with_server(hook_request("patient-view", prefetch))
    assert _summary(client.post(PV, json=body)).startswith("Continue")


def test_statements_neither_sent_nor_fetchable_are_412(client, make_client):
    response = client.post(PV, json=hook_request("patient-view", _without_statements()))
    assert response.status_code == 412
    assert response.json()["errors"][0]["field"] == "prefetch.statements"

    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/MedicationStatement"):
            return httpx.Response(200, json=outcome())
        return httpx.Response(200, json=bundle([]))

    client = make_client(fhir_transport=FakeFhir(broken).transport)
    body = with_server(hook_request("patient-view", _without_statements()))
    response = client.post(PV, json=body)
    assert response.status_code == 412
    assert response.json()["errors"][0]["field"] == "prefetch.statements"


def test_statements_sent_as_null_or_empty_are_none(client):
    """An EHR that keeps no MedicationStatement says so (null, or an empty Bundle): an offer."""
    for value in (None, bundle([])):
        prefetch = prefetch_for(eligible_resources())
        prefetch["statements"] = value
        summary = _summary(client.post(PV, json=hook_request("patient-view", prefetch)))
        assert summary.startswith("Offer")


def test_a_paged_statements_bundle_is_read_to_its_last_page(make_client):
    fhir = FakeFhir()
    next_url = f"{FHIR}?_getpages=st&_getpagesoffset=1"
    fhir.pages[next_url] = page([statement(UTROGESTAN_DMD)])
    client = make_client(fhir_transport=fhir.transport)
    prefetch = prefetch_for(eligible_resources())
    prefetch["statements"] = page([], next_url)
    body = with_server(hook_request("patient-view", prefetch))
    assert _summary(client.post(PV, json=body)).startswith("Continue")
    # the same first page without a fhirServer to read the rest from: never decided on page 1
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 412


def test_another_patients_statement_refuses_the_call(client):
    theirs = statement(UTROGESTAN_DMD)
    theirs["subject"] = {"reference": "Patient/other-PATIENT-8810"}
    prefetch = prefetch_for(eligible_resources())
    prefetch["statements"] = bundle([theirs])
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "prefetch.statements"


@pytest.mark.parametrize("shape", sorted(CURRENCY_SHAPES))
def test_whether_her_medicine_is_current_as_ehrs_write_it(client, shape):
    """GP Connect plan/issue pairs, Epic reportedBoolean, Cerner home medicines, FHIR "unknown"
    statuses: the card continues, offers, or asks, as the reading says."""
    resources, exported, expected = CURRENCY_SHAPES[shape]
    prefetch = prefetch_for(eligible_resources())
    requests = [r for r in resources if r["resourceType"] == "MedicationRequest"]
    prefetch["medications"] = bundle([*requests, *exported])
    prefetch["statements"] = bundle(
        [r for r in resources if r["resourceType"] != "MedicationRequest"]
    )
    summary = _summary(client.post(PV, json=hook_request("patient-view", prefetch)))
    starts = {True: "Continue", False: "Offer", None: "NG126 progesterone: needs"}[expected]
    assert summary.startswith(starts), summary
