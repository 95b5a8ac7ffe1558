"""The CDS service on scan results as hospitals send them (issue 12, real records;
`tests.records.scan_shapes`): progesterone is offered only on a scan-confirmed intrauterine
pregnancy. A preliminary result (not yet verified) no longer confirms one (it did: an offer); an
amended or corrected one does; a cancelled, registered, unknown or entered-in-error one does not.
A finding dated by effectiveInstant, a period's start or end, or issued only is dated; a scan
report (DiagnosticReport) is not read, so a finding only there leaves the scan unknown."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.fhir.cards import md
from earlypath.records.definition import UNCONFIRMED_MESSAGE
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.scan_shapes import (
    NEEDS_SCAN,
    NO_OFFER,
    OFFER,
    SCAN_AS_CONDITION,
    SCAN_DATING,
    SCAN_REPORTS,
    SCAN_STATUS,
)

PV = "/cds-services/ng126-progesterone"
SUMMARY_START = {
    OFFER: "Offer",
    NO_OFFER: "Progesterone not recommended",
    NEEDS_SCAN: "NG126 progesterone: needs a scan showing where the pregnancy is",
}


def _card(client: Any, resources: list[dict[str, Any]]) -> dict[str, Any]:
    # a scan report is in no prefetch key: the service does not ask for one
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(resources)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


CASES = {**SCAN_STATUS, **SCAN_AS_CONDITION, **SCAN_DATING, **SCAN_REPORTS}


@pytest.mark.parametrize("shape", sorted(CASES))
def test_the_card_offers_only_on_a_confirmed_intrauterine_scan(client, shape):
    resources, decision = CASES[shape]
    assert _card(client, resources)["summary"].startswith(SUMMARY_START[decision])


def _named(rid: str) -> str:
    return f"- {md(f'Observation/{rid}')}: {md(UNCONFIRMED_MESSAGE)}"


def test_a_preliminary_scan_is_named_on_the_card_as_not_confirming(client):
    card = _card(client, SCAN_STATUS["preliminary"][0])
    assert _named("iup") in card["detail"]
    # the confirmed scan of a week ago stands: the preliminary one is still named
    card = _card(client, SCAN_STATUS["final-then-preliminary"][0])
    assert card["summary"].startswith("Offer")
    assert _named("iup-2") in card["detail"]
