"""Through CDS Hooks (stop 31, HAZ-20 C20.22): tied versions of her ultrasound panel whose
crown-rump length or mean sac diameter differ are named on the card as held back (neither length
read); versions giving one length (written 7 mm and 0.7 cm, or differing in wording only) are
not. The shapes: `tests.records.length_version_shapes`."""

from __future__ import annotations

import pytest

from earlypath.fhir.cards import md
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.length_version_shapes import HELD, HELD_MESSAGE, LENGTH_VERSIONS, PANEL_ID

PV = "/cds-services/ng126-progesterone"


@pytest.mark.parametrize("shape", sorted(LENGTH_VERSIONS))
def test_tied_panel_versions_with_differing_lengths_are_named_on_the_card(client, shape):
    resources, _ = LENGTH_VERSIONS[shape]
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(resources)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    named = f"- {md(f'Observation/{PANEL_ID}')}: {md(HELD_MESSAGE)}" in card["detail"]
    assert named == (shape in HELD), card["detail"]
