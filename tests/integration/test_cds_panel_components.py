"""The CDS service reads findings an EHR sends only as components of an ultrasound panel
(issue 12): the card uses them (and shows the panel among its data) instead of asking for them.
One vignette per fact: crown-rump length, mean sac diameter, fetal heart rate, heartbeat finding."""

from __future__ import annotations

import pytest

from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.panel_vignettes import woman_with_panel

PV = "/cds-services/ng126-progesterone"
RESCAN = "No fetal heartbeat has been confirmed yet"


def _card(client, resources) -> dict:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(resources)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


def _data_used(card: dict) -> str:
    return card["detail"].split("**Data used**")[1]


def test_a_panel_crl_alone_dates_the_pregnancy_and_she_is_offered(client):
    """No LMP: without the panel's CRL her gestation is unknown and the card asks for it."""
    card = _card(client, woman_with_panel("crl"))
    assert card["summary"].startswith("Offer")
    assert "Gestation: 7+0 (by crl)" in card["detail"]
    assert "Observation/us-panel" in _data_used(card)


def test_a_panel_mean_sac_diameter_is_data_the_card_used(client):
    card = _card(client, woman_with_panel("msd"))
    assert card["summary"].startswith("Offer")
    assert "scans: Observation/iup, Observation/us-panel" in _data_used(card)


@pytest.mark.parametrize("fact", ["fhr", "heartbeat"])
def test_a_panel_heartbeat_is_confirmed_so_no_rescan_is_advised(client, fact):
    """A heart rate of 150/min, or the heartbeat finding, as a component: a heartbeat is
    confirmed (1.5.3), so the card does not advise a rescan to confirm one."""
    card = _card(client, woman_with_panel(fact))
    assert card["summary"].startswith("Offer")
    assert RESCAN not in card["detail"]
    assert "Observation/us-panel" in _data_used(card)


def test_a_panel_heart_rate_of_zero_is_no_heartbeat(client):
    card = _card(client, woman_with_panel("fhr-zero"))
    assert RESCAN in card["detail"]
    assert "Observation/us-panel" in _data_used(card)


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_a_panel_in_error_is_not_read(client, status):
    """Its components carry its status: the CRL of a panel entered in error does not date the
    pregnancy (the card asks for the LMP), and no heartbeat is taken from it."""
    card = _card(client, woman_with_panel("crl", status=status))
    assert not card["summary"].startswith("Offer")
    assert "Observation/us-panel" not in card["detail"]
    card = _card(client, woman_with_panel("fhr", status=status))
    assert RESCAN in card["detail"]
    assert "Observation/us-panel" not in card["detail"]
