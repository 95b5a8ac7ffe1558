"""An LMP that should not date her (stop 44, issue 12; NG126 1.5.2's 16 completed weeks).

1. An LMP on an Observation of status `preliminary` or `unknown` dated her as a final one, and a
   newer one overrode a final LMP: alone it gave an offer; newer than a final LMP of 7+0, its
   17+0 held the offer back. Now it never dates her: the newest, it leaves the LMP unknown
   (needs information, named); a final LMP recorded after it, or a scan's CRL, dates her.
2. A newer LMP given to a month or a year only, or as text, was ignored and an older full LMP
   dated her (offer until 2024-03-18). Now the LMP is unknown, unless a scan's CRL dates her or a
   full LMP is recorded after it.
Through the ASGI app (the card) and the DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earlypath.fhir.cards import md
from earlypath.records.definition import LMP_NOT_A_DAY_MESSAGE, UNVERIFIED_LMP_MESSAGE
from tests.fhir_exports import audited_by_shape
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.unverified_dating_shapes import (
    FINAL_DATES,
    PARTIAL_CONTROLS,
    PARTIAL_NEWER,
    SHAPES,
    UNVERIFIED_ALONE,
    UNVERIFIED_OVER_FINAL,
    export,
)

PV = "/cds-services/ng126-progesterone"
UNVERIFIED = {**UNVERIFIED_ALONE, **UNVERIFIED_OVER_FINAL}
DATED = {**FINAL_DATES, **PARTIAL_CONTROLS}


def _card(client, shape: str) -> dict[str, Any]:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(SHAPES[shape])))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return dict(card)


def _gestation_needed(card: dict[str, Any], shape: str) -> None:
    assert card["summary"].startswith("NG126 progesterone: needs"), (shape, card["summary"])
    assert "Gestation: unknown" in card["detail"], shape
    assert "gestational age \\(LMP or crown-rump length\\)" in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(UNVERIFIED))
def test_an_unverified_lmp_does_not_date_her(client, shape: str) -> None:
    card = _card(client, shape)
    _gestation_needed(card, shape)
    assert md(UNVERIFIED_LMP_MESSAGE) in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(PARTIAL_NEWER))
def test_a_newer_lmp_of_no_day_leaves_the_lmp_unknown(client, shape: str) -> None:
    card = _card(client, shape)
    _gestation_needed(card, shape)
    assert f"- {md('Observation/lmp2')}: {md(LMP_NOT_A_DAY_MESSAGE)}" in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(DATED))
def test_a_final_full_lmp_or_a_crl_still_dates_her(client, shape: str) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("Offer"), (shape, card["summary"])


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    episodes = audited_by_shape(export(), tmp_path)
    assert sorted(episodes) == sorted(SHAPES)
    for shape in {**UNVERIFIED, **PARTIAL_NEWER}:
        assert episodes[shape]["decision"] == "needs_information", shape
        assert "lmp" in episodes[shape]["missing"], shape
    for shape in DATED:
        assert episodes[shape]["decision"] == "offer", shape
