"""The CDS service on miscarriages dated to a month or a year only (`tests.records.
partial_date_shapes`): a loss whose month or year ended before this pregnancy is a previous
miscarriage, one whose month lies in this pregnancy (up to today) is this pregnancy's, and any
other is named on the card and not read. Before stop 24 every one was "no usable date": the first
kind gave "needs information" instead of "offer", the second an offer after this pregnancy had
miscarried."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.fhir.mapping import map_resources
from tests.integration.fhir_data import TODAY, hook_request, prefetch_for
from tests.records.partial_date_shapes import CASES, NAMED, NAMED_CASES, THIS_MONTH

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
def test_the_card_places_a_miscarriage_dated_to_a_month_or_a_year(client: Any, name: str) -> None:
    resources, _, _, decision = CASES[name]
    card = _card(client, resources)
    assert card["summary"].startswith(SUMMARY[decision]), card["summary"]
    # the detail is Markdown: its parentheses are escaped
    named = NAMED.split(" (")[0]
    assert (named in card["detail"]) == (name in NAMED_CASES), card["detail"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_reading_places_a_miscarriage_dated_to_a_month_or_a_year(name: str) -> None:
    resources, previous, diagnosed, _ = CASES[name]
    episode = map_resources(resources, TODAY).episode
    assert (episode["previous_miscarriages"], episode["miscarriage_diagnosed"]) == (
        previous,
        diagnosed,
    )


@pytest.mark.xfail(
    strict=True,
    reason="left at stop 24: a miscarriage dated to the assessment's month only ('2024-03' on "
    "2024-03-04) is named but not placed, so the card offers beside today's intrauterine scan "
    "(tests.records.partial_date_shapes.THIS_MONTH)",
)
@pytest.mark.parametrize("name", sorted(THIS_MONTH))
def test_a_loss_dated_to_this_month_holds_the_offer_back(client: Any, name: str) -> None:
    card = _card(client, THIS_MONTH[name])
    assert not card["summary"].startswith("Offer"), card["summary"]
