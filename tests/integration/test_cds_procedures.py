"""The CDS service asks for her procedures (stop 31): a GP or hospital record may hold a previous
miscarriage or ectopic pregnancy only as what was done for it, and the one record reading reads
a Procedure since stop 31 (`tests/records/test_previous_history.py`). Before, no prefetch key or
fetch asked for them, so on the card such a history stayed unknown whatever the EHR held.

The key is optional: what procedures give is read "yes" or "at least one" only, so a call
without them (not sent, no FHIR server) is answered, the history they would give unknown."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.cds_reading import FakeFhir, with_server
from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for
from tests.records.previous_history_shapes import MISSED_MISCARRIAGE_D_AND_C, procedure

PV = "/cds-services/ng126-progesterone"
TEMPLATE = "Procedure?patient={{context.patientId}}"


def _without_history() -> list[dict[str, Any]]:
    """The eligible woman of the CDS tests with her previous miscarriage's Condition removed."""
    history, *rest = eligible_resources()
    assert history["resourceType"] == "Condition"
    return rest


def _summary(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    summary: str = card["summary"]
    return summary


def test_every_service_asks_for_her_procedures(client):
    services = client.get("/cds-services").json()["services"]
    assert services and all(s["prefetch"]["procedures"] == TEMPLATE for s in services)


def test_a_previous_miscarriage_known_only_by_its_procedure_is_read_from_the_prefetch(client):
    done = procedure("p1", MISSED_MISCARRIAGE_D_AND_C)
    with_it = hook_request("patient-view", prefetch_for([*_without_history(), done]))
    assert _summary(client.post(PV, json=with_it)).startswith("Offer vaginal progesterone")
    # the same record without the procedure: her previous miscarriages are unknown, no offer
    without = hook_request("patient-view", prefetch_for(_without_history()))
    assert not _summary(client.post(PV, json=without)).startswith("Offer")


def test_procedures_not_prefetched_are_fetched_from_the_fhir_server(make_client):
    fhir = FakeFhir()
    fhir.by_type["Procedure"] = [procedure("p1", MISSED_MISCARRIAGE_D_AND_C)]
    client = make_client(fhir_transport=fhir.transport)
    prefetch = prefetch_for(_without_history())
    del prefetch["procedures"]
    body = with_server(hook_request("patient-view", prefetch))
    assert _summary(client.post(PV, json=body)).startswith("Offer vaginal progesterone")
    assert [r.url.path.rsplit("/", 1)[-1] for r in fhir.seen] == ["Procedure"]


def test_procedures_neither_sent_nor_fetchable_leave_the_history_unknown(client):
    prefetch = prefetch_for(_without_history())
    del prefetch["procedures"]
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    # answered (not 412: the key is optional), and not an offer on a history no one looked at
    assert not _summary(response).startswith("Offer")
    # with the previous miscarriage on record as a Condition the same call is an offer
    prefetch = prefetch_for(eligible_resources())
    del prefetch["procedures"]
    assert _summary(client.post(PV, json=hook_request("patient-view", prefetch))).startswith(
        "Offer vaginal progesterone"
    )
