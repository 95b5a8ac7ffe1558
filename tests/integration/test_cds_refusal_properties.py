"""Issue 11, properties: another patient's resource, a partial Bundle or an OperationOutcome
never yields an offer card, whatever else the record holds and wherever the fault is."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.web import create_app
from earlypath.web.config import Settings
from tests.integration.cds_reading import FHIR, PV, decision, outcome, page, with_server
from tests.integration.fhir_data import (
    PATIENT_ID,
    TODAY,
    bleeding,
    crl,
    eligible_resources,
    hook_request,
    iup,
    lmp,
    prefetch_for,
    previous_miscarriage,
)

KEYS = ("patient", "conditions", "observations", "medications", "allergies")
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Server:
    """The FHIR server behind the app: `mode` says how it fails this example."""

    def __init__(self) -> None:
        self.mode = "down"

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "down":
            raise httpx.ConnectError("down")
        if self.mode == "500":
            return httpx.Response(500)
        if self.mode == "outcome":
            return httpx.Response(200, json=outcome())
        if self.mode == "foreign-next":
            return httpx.Response(200, json=page([], "https://evil.example.org/fhir/x"))
        n = int(request.url.params.get("page", "0")) + 1  # "endless": always one more page
        return httpx.Response(200, json=page([], f"{FHIR}/Condition?page={n}"))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Server]]:
    server = Server()
    db = Path(tmp_path_factory.mktemp("fb")) / "fb.sqlite3"
    app = create_app(
        Settings(auth=False, feedback_db=f"sqlite:///{db}"),
        today=lambda: TODAY,
        fhir_transport=httpx.MockTransport(server.handler),
    )
    with TestClient(app) as client:
        yield client, server


# Records with a pregnancy in them: any part of the eligible woman's record, in any order.
records = st.lists(
    st.sampled_from([previous_miscarriage, bleeding, lmp, iup, crl]), min_size=1, unique=True
).map(lambda makers: [make() for make in makers])
other_ids = st.from_regex(r"[A-Za-z0-9\-.]{1,64}", fullmatch=True).filter(
    lambda x: x != PATIENT_ID and x.strip(".") != ""
)
foreign_subjects = st.one_of(
    other_ids.map(lambda x: {"reference": f"Patient/{x}"}),
    other_ids.map(lambda x: {"reference": f"https://ehr.example.org/fhir/Patient/{x}"}),
    other_ids.map(lambda x: {"reference": f"Patient/{x}/_history/2"}),
    other_ids.map(lambda x: {"reference": f"Group/{x}"}),
    st.just({"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "1"}}),
)
failing_outcomes = st.builds(
    outcome, st.sampled_from(["error", "fatal"]), st.sampled_from(["exception", "too-costly"])
)


def _prefetch(resources: list[dict[str, Any]]) -> dict[str, Any]:
    prefetch = prefetch_for(resources)
    prefetch["allergies"] = page([])
    return prefetch


def _with_server(body: dict[str, Any], on: bool) -> dict[str, Any]:
    return with_server(body) if on else body


def test_the_unspoilt_record_is_an_offer(service):
    client, _ = service
    body = hook_request("patient-view", _prefetch(eligible_resources()))
    assert decision(client.post(PV, json=body)) == "offer"


@PROPERTY
@given(
    resources=records,
    victim=st.integers(min_value=0),
    subject=foreign_subjects,
    other=other_ids,
    as_patient=st.booleans(),
    server=st.booleans(),
)
def test_another_patients_resource_never_yields_offer(
    service, resources, victim, subject, other, as_patient, server
):
    client, fhir = service
    resources = eligible_resources() + resources
    prefetch = _prefetch(resources)
    if as_patient:
        prefetch["patient"] = {"resourceType": "Patient", "id": other}
    else:
        entries = [e for key in ("conditions", "observations") for e in prefetch[key]["entry"]]
        entries[victim % len(entries)]["resource"]["subject"] = subject
    body = _with_server(hook_request("patient-view", prefetch), server)
    response = client.post(PV, json=body)
    assert decision(response) != "offer"
    assert response.status_code == 422


@PROPERTY
@given(
    resources=records,
    key=st.sampled_from(KEYS),
    how=st.sampled_from(["next", "total", "next-and-server"]),
    mode=st.sampled_from(["down", "500", "outcome", "foreign-next", "endless"]),
    link=st.sampled_from(
        [f"{FHIR}/Condition?page=1", "https://evil.example.org/fhir/Condition?page=1"]
    ),
)
def test_a_partial_bundle_never_yields_offer(service, resources, key, how, mode, link):
    client, fhir = service
    fhir.mode = mode
    prefetch = _prefetch(eligible_resources() + resources)
    value = prefetch[key]
    part = copy.deepcopy(value) if value and value.get("resourceType") == "Bundle" else page([])
    if key == "patient":
        part = page([value])
    if how == "total":
        part["total"] = len(part.get("entry", [])) + 1
    else:
        part["link"] = [{"relation": "next", "url": link}]
    prefetch[key] = part
    body = _with_server(hook_request("patient-view", prefetch), how == "next-and-server")
    response = client.post(PV, json=body)
    assert decision(response) != "offer"
    assert response.status_code == 412


@PROPERTY
@given(
    resources=records,
    key=st.sampled_from(KEYS),
    failure=failing_outcomes,
    inside=st.booleans(),
    server=st.booleans(),
    mode=st.sampled_from(["down", "500", "outcome", "foreign-next", "endless"]),
)
def test_an_operation_outcome_never_yields_offer(
    service, resources, key, failure, inside, server, mode
):
    client, fhir = service
    fhir.mode = mode
    prefetch = _prefetch(eligible_resources() + resources)
    if inside and isinstance(prefetch[key], dict) and prefetch[key]["resourceType"] == "Bundle":
        prefetch[key]["entry"].append({"resource": failure, "search": {"mode": "outcome"}})
    else:
        prefetch[key] = failure
    body = _with_server(hook_request("patient-view", prefetch), server)
    response = client.post(PV, json=body)
    assert decision(response) != "offer"
    assert response.status_code == 412
