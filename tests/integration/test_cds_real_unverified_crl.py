"""A crown-rump length that does not date her (stop 44's vignettes, fixed at stop 45; issue 12,
HAZ-20 C20.30).

A CRL on an Observation of status `preliminary` or `unknown` (FHIR R4 observation-status: data
that may be incomplete or unverified, or a status the sender does not know) dated her as a final
one does: alone she was offered, and beside a final LMP of 17+0 (past 16 completed weeks, NG126
1.5.2) she was offered too. Such a CRL now never dates her (with no other dating the gestation is
unknown, the CRL named), yet still counts for viability (7 mm or more with no heartbeat: NG126
1.4.7), so it is not dropped. Through the ASGI app (the card) and the DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from earlypath.fhir.cards import md
from tests.integration.shape_cards import audited_shapes, the_card
from tests.records.unverified_dating_shapes import (
    CRL_CONTROLS,
    CRL_SHAPES,
    UNVERIFIED_CRL_ALONE,
    UNVERIFIED_CRL_OVER_FINAL_LMP,
    crl_export,
)

STEP_1_4_7 = "**Advice (1.4.7)**"


@pytest.mark.parametrize("shape", sorted(UNVERIFIED_CRL_ALONE))
def test_an_unverified_crl_alone_does_not_date_her(client, shape: str) -> None:
    card = the_card(client, CRL_SHAPES[shape])
    assert card["summary"].startswith("NG126 progesterone: needs"), (shape, card["summary"])
    assert "Gestation: unknown" in card["detail"], shape
    assert f"- {md('Observation/crl')}: " in card["detail"], shape  # named, with why


@pytest.mark.parametrize("shape", sorted(UNVERIFIED_CRL_OVER_FINAL_LMP))
def test_an_unverified_crl_does_not_override_a_final_lmp(client, shape: str) -> None:
    card = the_card(client, CRL_SHAPES[shape])
    assert "Gestation: 17+0 (by lmp)" in card["detail"], shape
    assert not card["summary"].startswith("Offer"), (shape, card["summary"])


@pytest.mark.parametrize("shape", sorted(CRL_CONTROLS))
def test_a_final_crl_dates_her_and_an_unverified_one_counts_for_viability(
    client, shape: str
) -> None:
    card = the_card(client, CRL_SHAPES[shape])
    assert card["summary"].startswith("Offer"), (shape, card["summary"])
    assert "Gestation: 7+0 (by " in card["detail"], shape
    # the unverified CRL of 9.5 mm with a heart rate of 0/min: NG126 1.4.7's step is named
    assert (STEP_1_4_7 in card["detail"]) is (shape == "crl-preliminary-no-heartbeat"), shape


def test_the_audit_does_not_date_her_by_an_unverified_crl(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape: the controls as the card, then the open shapes."""
    episodes = audited_shapes(crl_export(), CRL_SHAPES, tmp_path)
    for shape in CRL_CONTROLS:
        assert episodes[shape]["decision"] == "offer", shape
    for shape in UNVERIFIED_CRL_ALONE:
        assert episodes[shape]["decision"] == "needs_information", shape
        assert episodes[shape]["gestation_days"] is None, shape
    for shape in UNVERIFIED_CRL_OVER_FINAL_LMP:
        assert episodes[shape]["gestation_days"] == 17 * 7, shape
        assert episodes[shape]["decision"] != "offer", shape
