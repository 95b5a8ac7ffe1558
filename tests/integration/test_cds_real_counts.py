"""The CDS service on previous miscarriages recorded as a count of past pregnancy outcomes (issue 12,
real records; `tests.records.count_shapes`): an IPS "History of Pregnancy" Observation of LOINC
11614-5 is read as at least that many previous miscarriages (its 0 as none), a count of all
abortions only by its 0, and a count that cannot be one (a decimal, a bound, another unit...) is
named on the card and leaves the number unknown. Before stop 22 none was read: every such woman was
"needs information", never "offer"; so were a GP system's CTV3 "H/O: miscarriage" and
"A/N care: recurrent aborter" and SNOMED CT's "Antenatal care: recurrent aborter"."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.fhir.mapping import map_resources
from tests.integration.fhir_data import TODAY, hook_request, prefetch_for
from tests.records.count_shapes import CASES, NAMED

PV = "/cds-services/ng126-progesterone"
SUMMARY = {
    "offer": "Offer",
    "do_not_offer": "Progesterone not recommended",
    "needs_information": "NG126 progesterone: needs number of previous miscarriages",
}


def _card(client: Any, resources: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(resources)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_card_reads_a_count_of_previous_miscarriages(client: Any, name: str) -> None:
    resources, _, decision = CASES[name]
    card = _card(client, resources)
    assert card["summary"].startswith(SUMMARY[decision]), card["summary"]
    if name in NAMED:
        assert NAMED[name] in card["detail"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_reading_counts_previous_miscarriages(name: str) -> None:
    resources, previous, _ = CASES[name]
    assert map_resources(resources, TODAY).episode["previous_miscarriages"] == previous
