"""A recorded gestational age that contradicts the LMP, one that cannot be read, and an EDD given
to a month only (stop 41).

A gestational-age Observation was read only as a sign of pregnancy, so a woman whose LMP put her
at 15+0 was offered progesterone to 16+0 by it (NG126 1.5.2, 1.5.3) beside an ultrasound
gestational age of 16.9 weeks (SATUSEHAT's LOINC 11888-5; AU Core's 112 days is the same case).
Now a gestational age taken on a day implies an LMP (that day less the gestation); an LMP further
than `edd_lmp_tolerance_days` (reading.json) from it does not date the pregnancy: without a CRL
her gestation is unknown (needs_information), the LMP named. A gestational age that cannot be
read (no unit, months, text) or an EDD of a month only ("2024-08", which was ignored silently)
leaves it unknown whether the LMP is right: named, and the LMP does not date her. One that
agrees, of an earlier pregnancy, with no value, or beside a CRL changes nothing. Through the
ASGI app (the card) and the DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from earlypath.fhir.cards import md
from earlypath.records.definition import (
    EDD_NOT_A_DAY_MESSAGE,
    EDD_UNREADABLE_MESSAGE,
    GESTATIONAL_AGE_UNREADABLE_MESSAGE,
    LMP_AGAINST_GESTATIONAL_AGE_MESSAGE,
    LMP_UNCHECKED_MESSAGE,
)
from tests.fhir_exports import audited_by_shape
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.gestational_age_shapes import (
    AGAINST,
    EDD_NOT_A_DATE,
    UNCHANGED,
    UNREADABLE,
    WITH_CRL,
    export,
    shapes,
)

PV = "/cds-services/ng126-progesterone"
AGAINST_NAMED = md(LMP_AGAINST_GESTATIONAL_AGE_MESSAGE)
UNCHECKED_NAMED = md(LMP_UNCHECKED_MESSAGE)
UNREADABLE_NAMED = {
    name: md(
        EDD_UNREADABLE_MESSAGE
        if name in EDD_NOT_A_DATE
        else EDD_NOT_A_DAY_MESSAGE
        if name.startswith("edd")
        else GESTATIONAL_AGE_UNREADABLE_MESSAGE
    )
    for name in UNREADABLE
}


def _card(client, shape: str) -> dict:
    request = hook_request("patient-view", prefetch_for(shapes()[shape]))
    response = client.post(PV, json=request)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return dict(card)


@pytest.mark.parametrize("shape", sorted(AGAINST))
def test_a_gestational_age_against_the_lmp_leaves_the_gestation_unknown(client, shape: str):
    card = _card(client, shape)
    assert "gestational age" in card["summary"], shape
    assert "Gestation: unknown" in card["detail"], shape
    assert AGAINST_NAMED in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(UNREADABLE))
def test_a_dating_record_that_cannot_be_read_is_named(client, shape: str):
    card = _card(client, shape)
    assert "gestational age" in card["summary"], shape
    assert "Gestation: unknown" in card["detail"], shape
    assert UNREADABLE_NAMED[shape] in card["detail"], shape
    assert UNCHECKED_NAMED in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(UNCHANGED))
def test_a_gestational_age_that_agrees_or_is_old_changes_nothing(client, shape: str):
    card = _card(client, shape)
    assert card["summary"].startswith("Offer"), shape
    assert "until 2024-03-11" in card["summary"], shape  # 16+0 by the LMP
    assert "Gestation: 15+0 (by lmp)" in card["detail"], shape
    assert AGAINST_NAMED not in card["detail"] and UNCHECKED_NAMED not in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(WITH_CRL))
def test_a_crl_still_dates_her(client, shape: str):
    card = _card(client, shape)
    assert card["summary"].startswith("Offer"), shape
    assert "Gestation: 7+0 (by crl)" in card["detail"], shape
    assert AGAINST_NAMED in card["detail"], shape


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    decisions = audited_by_shape(export(), tmp_path)
    assert sorted(decisions) == sorted(shapes())
    for shape in [*AGAINST, *UNREADABLE]:
        assert decisions[shape]["decision"] == "needs_information", shape
        assert decisions[shape]["gestation_days"] is None, shape
        assert "lmp" in decisions[shape]["missing"], shape
    for shape in UNCHANGED:
        assert decisions[shape]["decision"] == "offer", shape
        assert decisions[shape]["gestation_days"] == 105, shape
    for shape in WITH_CRL:
        assert decisions[shape]["decision"] == "offer", shape
        assert decisions[shape]["gestation_days"] == 49, shape
