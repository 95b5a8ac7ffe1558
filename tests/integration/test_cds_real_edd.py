"""An estimated date of delivery that contradicts the LMP (stop 41).

The EDD (HL7 IPS Observation-pregnancy-edd and kin) was not read, so a woman whose LMP put her at
15+0 was offered progesterone (NG126 1.5.2, to 16+0 by 1.5.3) when her record's EDD put her at
16+6. An EDD more than `edd_lmp_tolerance_days` (reading.json) from 280 days after the LMP now
keeps that LMP from dating the pregnancy: without a CRL her gestation is unknown
(needs_information), never a silent pick of either date; the LMP is named. An EDD that agrees,
one of an earlier pregnancy, and a CRL beside it change nothing. Through the ASGI app (the card)
and the DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from earlypath.fhir.cards import md
from earlypath.records.definition import LMP_AGAINST_EDD_MESSAGE
from tests.fhir_exports import audited_by_shape
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.edd_shapes import (
    DATING_UNKNOWN,
    UNCHANGED,
    WITH_CRL,
    export,
    shapes,
)

PV = "/cds-services/ng126-progesterone"
NAMED = md(LMP_AGAINST_EDD_MESSAGE)


def _card(client, shape: str) -> dict:
    request = hook_request("patient-view", prefetch_for(shapes()[shape]))
    response = client.post(PV, json=request)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return dict(card)


@pytest.mark.parametrize("shape", sorted(DATING_UNKNOWN))
def test_an_edd_against_the_lmp_leaves_the_gestation_unknown(client, shape: str) -> None:
    card = _card(client, shape)
    assert "gestational age" in card["summary"], shape
    assert "Gestation: unknown" in card["detail"], shape
    assert NAMED in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(UNCHANGED))
def test_an_edd_that_agrees_or_is_old_changes_nothing(client, shape: str) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("Offer"), shape
    assert "until 2024-03-11" in card["summary"], shape  # 16+0 by the LMP
    assert NAMED not in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(WITH_CRL))
def test_a_crl_still_dates_her(client, shape: str) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("Offer"), shape
    assert "Gestation: 7+0 (by crl)" in card["detail"], shape
    assert NAMED in card["detail"], shape


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    decisions = audited_by_shape(export(), tmp_path)
    assert sorted(decisions) == sorted(shapes())
    for shape in DATING_UNKNOWN:
        assert decisions[shape]["decision"] == "needs_information", shape
        assert decisions[shape]["gestation_days"] is None, shape
        assert "lmp" in decisions[shape]["missing"], shape
    for shape in UNCHANGED:
        assert decisions[shape]["decision"] == "offer", shape
        assert decisions[shape]["gestation_days"] == 105, shape
    for shape in WITH_CRL:
        assert decisions[shape]["decision"] == "offer", shape
        assert decisions[shape]["gestation_days"] == 49, shape
