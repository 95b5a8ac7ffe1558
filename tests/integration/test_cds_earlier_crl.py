"""A crown-rump length on an earlier scan of this pregnancy dates her alike on the card and in
the audit (stop 44, issue 12; HAZ-20 C20.31).

The card dates her by the earliest scan with a CRL; the DuckDB FHIR audit's flat row held only
today's scan, so it asked for the LMP (no LMP) or dated her by the LMP (one recorded) where the
card offered. The flat row now carries that CRL (`earlier_crl_mm`, `earlier_crl_date`). A CRL of
a previous pregnancy (she was recorded not pregnant after it) dates neither. Through the ASGI
app (the card) and the DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fhir_exports import audited_by_shape
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.earlier_crl_shapes import (
    EARLIER_DATES,
    GESTATION_DAYS,
    PREVIOUS_PREGNANCY,
    SHAPES,
    TODAY_DATES,
    export,
)

PV = "/cds-services/ng126-progesterone"


def _card(client, shape: str) -> dict[str, Any]:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(SHAPES[shape])))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return dict(card)


@pytest.mark.parametrize("shape", sorted({**EARLIER_DATES, **TODAY_DATES}))
def test_the_card_dates_her_by_the_crl_and_offers(client, shape: str) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("Offer"), (shape, card["summary"])


@pytest.mark.parametrize("shape", sorted(PREVIOUS_PREGNANCY))
def test_a_previous_pregnancys_crl_dates_her_not(client, shape: str) -> None:
    card = _card(client, shape)
    assert "needs" in card["summary"] and "LMP" in card["summary"], (shape, card["summary"])


def test_the_audit_dates_her_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    episodes = audited_by_shape(export(), tmp_path)
    assert sorted(episodes) == sorted(SHAPES)
    for shape in {**EARLIER_DATES, **TODAY_DATES}:
        assert episodes[shape]["decision"] == "offer", (shape, episodes[shape])
    for shape in EARLIER_DATES:
        assert episodes[shape]["gestation_days"] == GESTATION_DAYS, (shape, episodes[shape])
    for shape in PREVIOUS_PREGNANCY:
        assert episodes[shape]["decision"] == "needs_information", shape
        assert "lmp" in episodes[shape]["missing"], shape
