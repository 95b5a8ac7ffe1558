"""The CDS service on merged patient records (FHIR R4 Patient.link; issue 12, real records):
a record merged into another (``replaced-by``) gives no recommendation and names the record in
use (it was decided on as if it were in use); the record in use reads the resources still under
the record it ``replaces`` as hers (they were refused as another patient's), and when none of
them came with the call what they hold is unknown (it was read as "none": an offer); merge links
that conflict or form a cycle give no recommendation; a ``seealso`` link makes nothing hers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from earlypath.fhir.cards import md
from earlypath.records.merges import CONFLICT_MESSAGE, CYCLE_MESSAGE
from tests.integration.cds_reading import TOKEN, FakeFhir, outcome, with_server
from tests.integration.fhir_data import (
    PATIENT_ID,
    bundle,
    day,
    eligible_resources,
    hook_request,
    observation,
    prefetch_for,
    progesterone_order,
)
from tests.records.merge_shapes import link
from tests.records.scan_shapes import FINDINGS, IUP_CONCEPT, scanned

PV = "/cds-services/ng126-progesterone"
OLD, NEW, FIRST = "old-77", "new-77", "first-77"


def _moved(resource: dict[str, Any], pid: str) -> dict[str, Any]:
    text = json.dumps(resource).replace(f"Patient/{PATIENT_ID}", f"Patient/{pid}")
    out: dict[str, Any] = json.loads(text)
    out["id"] = f"{pid}-{out['id']}"
    return out


def _call(client, her: dict[str, Any], resources: list[dict[str, Any]], **keys: Any) -> Any:
    prefetch = prefetch_for(resources)
    prefetch["patient"] = her
    prefetch.update(keys)
    return client.post(PV, json=hook_request("patient-view", prefetch))


def _card(client, her: dict[str, Any], resources: list[dict[str, Any]], **keys: Any) -> dict:
    response = _call(client, her, resources, **keys)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


def _her(*links: dict[str, Any], active: bool = True) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "gender": "female",
        "active": active,
        "link": list(links),
    }


def test_a_record_merged_into_another_names_the_record_in_use(client):
    her = _her(link("replaced-by", NEW, absolute=True), active=False)
    card = _card(client, her, eligible_resources())
    assert card["summary"] == (
        f"NG126 progesterone: this record was merged into Patient/{NEW}: open that one"
    )
    assert card["indicator"] == "warning" and "suggestions" not in card


def test_an_order_on_a_record_merged_into_another_is_not_checked_against_it(client):
    prefetch = prefetch_for(eligible_resources())
    prefetch["patient"] = _her(link("replaced-by", NEW), active=False)
    request = hook_request("order-sign", prefetch, draftOrders=bundle([progesterone_order()]))
    response = client.post("/cds-services/ng126-progesterone-order-sign", json=request)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert f"merged into Patient/{NEW}" in card["summary"]


@pytest.mark.parametrize("absolute", [False, True])
def test_the_record_in_use_reads_the_merged_records_resources_as_hers(client, absolute):
    history, *rest = eligible_resources()  # her previous miscarriage under the old id
    card = _card(client, _her(link("replaces", OLD, absolute)), [_moved(history, OLD), *rest])
    assert card["summary"].startswith("Offer vaginal progesterone"), card["summary"]


def test_two_merged_records_both_read_as_hers(client):
    """A chain of merges as the record in use lists them: it replaces both."""
    history, bleed, *rest = eligible_resources()
    her = _her(link("replaces", OLD), link("replaces", FIRST))
    card = _card(client, her, [_moved(history, FIRST), _moved(bleed, OLD), *rest])
    assert card["summary"].startswith("Offer vaginal progesterone"), card["summary"]


def test_a_merged_record_not_sent_leaves_its_history_unknown(client):
    card = _card(client, _her(link("replaces", OLD)), eligible_resources())
    assert card["summary"] == f"NG126 progesterone: needs the merged record Patient/{OLD}"
    assert "suggestions" not in card


@pytest.mark.parametrize(
    ("links", "why"),
    [
        ((link("replaced-by", NEW), link("replaces", NEW)), CYCLE_MESSAGE),
        ((link("replaced-by", NEW), link("replaced-by", OLD)), CONFLICT_MESSAGE),
    ],
    ids=["cycle", "conflict"],
)
def test_merge_links_that_cannot_be_resolved_give_no_recommendation(client, links, why):
    card = _card(client, _her(*links), eligible_resources())
    assert card["summary"].startswith("NG126 progesterone: needs the record in use")
    assert md(why) in card["detail"]


def test_a_seealso_link_makes_no_other_record_hers(client):
    history, *rest = eligible_resources()
    response = _call(client, _her(link("seealso", OLD)), [_moved(history, OLD), *rest])
    assert response.status_code == 422
    assert "another patient" in response.text


def test_the_merged_records_resources_are_hers_on_the_general_prefetch_path(client):
    """An optional key not sent (allergies): the call is read key by key (`prefetch.gather`)."""
    history, *rest = eligible_resources()
    prefetch = prefetch_for([_moved(history, OLD), *rest])
    prefetch["patient"] = _her(link("replaces", OLD))
    del prefetch["allergies"]
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["summary"].startswith("Offer vaginal progesterone"), card["summary"]


# --- a merged record not sent, asked of the FHIR server -------------------------------------------


def _server_holding(under_old: list[dict[str, Any]], status: int = 200) -> FakeFhir:
    """A FHIR server whose searches for the merged record's id give ``under_old`` (by type) and
    whose searches for anything else give nothing."""

    def answer(request: httpx.Request) -> httpx.Response:
        if status != 200:
            return httpx.Response(status, json=outcome())
        kind = request.url.path.rsplit("/", 1)[-1]
        hers = request.url.params.get("patient") == OLD
        found = [r for r in under_old if hers and r["resourceType"] == kind]
        return httpx.Response(200, json=bundle(found))

    return FakeFhir(answer)


def _asked(fhir: FakeFhir) -> set[tuple[str, str | None]]:
    return {(r.url.path.rsplit("/", 1)[-1], r.url.params.get("patient")) for r in fhir.seen}


def test_a_merged_record_not_sent_is_asked_of_the_fhir_server_and_read_as_hers(make_client):
    history, *rest = eligible_resources()  # her previous miscarriage is under the old id only
    fhir = _server_holding([_moved(history, OLD)])
    client = make_client(fhir_transport=fhir.transport)
    without = _card(client, _her(), rest)
    assert not without["summary"].startswith("Offer"), without["summary"]
    body = with_server(hook_request("patient-view", {**prefetch_for(rest), "patient": _her()}))
    body["prefetch"]["patient"] = _her(link("replaces", OLD))
    response = client.post(PV, json=body)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["summary"].startswith("Offer vaginal progesterone"), card["summary"]
    # every query of the merged record, by its id; its Patient is not read, hers not fetched again
    assert ("Condition", OLD) in _asked(fhir) and ("MedicationStatement", OLD) in _asked(fhir)
    assert all(patient == OLD for _, patient in _asked(fhir))
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fhir.seen)


def test_a_merged_record_the_server_holds_nothing_under_is_not_a_gap(make_client):
    """An EHR that moved the merged record's resources at the merge: nothing is under it."""
    fhir = _server_holding([])
    client = make_client(fhir_transport=fhir.transport)
    body = with_server(hook_request("patient-view", prefetch_for(eligible_resources())))
    body["prefetch"]["patient"] = _her(link("replaces", OLD))
    (card,) = client.post(PV, json=body).json()["cards"]
    assert card["summary"].startswith("Offer vaginal progesterone"), card["summary"]


@pytest.mark.parametrize("status", [500, 403])
def test_a_merged_record_the_server_cannot_give_leaves_its_history_unknown(make_client, status):
    fhir = _server_holding([], status=status)
    client = make_client(fhir_transport=fhir.transport)
    body = with_server(hook_request("patient-view", prefetch_for(eligible_resources())))
    body["prefetch"]["patient"] = _her(link("replaces", OLD))
    response = client.post(PV, json=body)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["summary"] == f"NG126 progesterone: needs the merged record Patient/{OLD}"
    assert "suggestions" not in card


def test_another_patients_data_given_for_a_merged_record_is_refused(make_client):
    history, *rest = eligible_resources()
    fhir = _server_holding([_moved(history, "someone-else")])  # answers OLD's search with hers

    def answer(request: httpx.Request) -> httpx.Response:
        kind = request.url.path.rsplit("/", 1)[-1]
        found = [r for r in [_moved(history, "someone-else")] if r["resourceType"] == kind]
        return httpx.Response(200, json=bundle(found))

    fhir.answer = answer
    client = make_client(fhir_transport=fhir.transport)
    body = with_server(hook_request("patient-view", prefetch_for(rest)))
    body["prefetch"]["patient"] = _her(link("replaces", OLD))
    response = client.post(PV, json=body)
    assert response.status_code == 422, response.text


# Versions of one scan finding (one Observation id) under her merged-away id and under hers, or
# one naming her by her literal reference and one by her NHS number (stop 29, declared at stop
# 28): the card's reading ranked versions per (patient, id) with the patient as the subject
# writes it, so the original intrauterine finding under the merged-away id (or the literal
# reference) was not replaced by its text-only amendment, and the card offered progesterone on
# the superseded finding. A CDS call holds one woman's record (every resource checked to be
# hers): its versions of an id are all hers, ranked together (`records.python.read`).
NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _finding_versions(original: dict[str, Any], amended: dict[str, Any]) -> list[dict[str, Any]]:
    """Her record, today's intrauterine finding whose subject is ``original`` and its text-only
    amendment (same id) whose subject is ``amended``."""
    finding = observation("us-find", *FINDINGS, day(), valueCodeableConcept=IUP_CONCEPT)
    amendment = {
        **{k: v for k, v in finding.items() if k != "valueCodeableConcept"},
        "status": "amended",
        "valueString": "No intrauterine pregnancy seen; retained products",
        "subject": amended,
    }
    return scanned({**finding, "subject": original}, amendment)


_HERS = {"reference": f"Patient/{PATIENT_ID}"}
_NEEDS_SCAN = "NG126 progesterone: needs a scan showing where the pregnancy is"


def test_a_finding_amended_under_her_id_replaces_its_version_under_the_merged_id(client):
    versions = _finding_versions({"reference": f"Patient/{OLD}"}, _HERS)
    card = _card(client, _her(link("replaces", OLD)), versions)
    assert card["summary"].startswith(_NEEDS_SCAN), card["summary"]


def test_a_finding_amended_naming_her_nhs_number_replaces_the_one_naming_her_record(client):
    her = {**_her(), "identifier": [{"system": NHS, "value": "9000000009"}]}
    versions = _finding_versions(_HERS, {"identifier": {"system": NHS, "value": "900 000 0009"}})
    card = _card(client, her, versions)
    assert card["summary"].startswith(_NEEDS_SCAN), card["summary"]


def test_a_finding_amended_under_her_id_replaces_its_version_under_her_id(client):
    """The same versions both under her id: the amendment replaces the original (no offer)."""
    card = _card(client, _her(), _finding_versions(_HERS, _HERS))
    assert card["summary"].startswith(_NEEDS_SCAN), card["summary"]
