"""The CDS service on malformed medicines and panel components (`tests.records.malformed_shapes`):
the card names the element at fault, and a progesterone statement or request whose status cannot
be read is no offer (whether she is on progesterone is unknown), never "not on progesterone"."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for
from tests.records.malformed_shapes import (
    COMPONENTS,
    MEDICINES,
    PANEL_COMPONENTS,
    panel,
    panel_of,
)

PV = "/cds-services/ng126-progesterone"
# what the card's summary starts with, by what "on progesterone" reads as
SUMMARY = {True: "Continue", False: "Offer", None: "NG126 progesterone: needs"}


def _plain(markdown: str) -> str:
    """The card's detail without its Markdown escapes."""
    return markdown.replace("\\", "")


def _card(client: Any, resources: list[dict[str, Any]], medications=()) -> dict[str, Any]:
    prefetch = prefetch_for(resources, medications=list(medications))
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


@pytest.mark.parametrize("shape", sorted(MEDICINES))
def test_a_malformed_medicine_is_named_on_the_card(client, shape):
    resource, problem, on_progesterone = MEDICINES[shape]
    if resource["resourceType"] == "MedicationRequest":
        card = _card(client, eligible_resources(), [resource])
    else:
        card = _card(client, [*eligible_resources(), resource])
    assert card["summary"].startswith(SUMMARY[on_progesterone])
    assert problem in _plain(card["detail"])
    if on_progesterone is None:
        assert "whether she is on progesterone is unknown" in card["detail"]


@pytest.mark.parametrize("shape", sorted(COMPONENTS))
def test_a_malformed_panel_component_is_named_on_the_card(client, shape):
    component, problem = COMPONENTS[shape]
    card = _card(client, [*eligible_resources(), panel(component)])
    assert problem in _plain(card["detail"])


@pytest.mark.parametrize("shape", sorted(PANEL_COMPONENTS))
def test_a_panel_whose_component_is_not_a_list_of_coded_objects_is_named_on_the_card(client, shape):
    components, problem = PANEL_COMPONENTS[shape]
    card = _card(client, [*eligible_resources(), panel_of(components)])
    assert problem in _plain(card["detail"])
