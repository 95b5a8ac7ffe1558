"""A later bleeding record that does not know whether she is bleeding (stop 43, issue 12).

The reading took the latest bleeding record that gave an answer and skipped a later one that
says the answer is unknown (a bleeding Condition not confirmed, recorded as resolved, or abated
by the assessment day), so "present" three days ago still opened the progesterone offer (NG126
1.5.2), and "absent" still read as no bleeding. The newest record now wins: when it does not
know, the decision needs information and names it. Through the ASGI app (the card) and the
DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fhir_exports import audited_by_shape
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.latest_unknown_shapes import NOT_BLEEDING, SHAPES, STILL_OFFER, UNKNOWN, export

PV = "/cds-services/ng126-progesterone"


def _card(client, shape: str) -> dict[str, Any]:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(SHAPES[shape])))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return dict(card)


@pytest.mark.parametrize("shape", sorted(UNKNOWN))
def test_a_later_record_that_does_not_know_leaves_bleeding_unknown(client, shape: str) -> None:
    card = _card(client, shape)
    assert "needs whether she has vaginal bleeding" in card["summary"], (shape, card["summary"])
    assert "Condition/bleed" in card["detail"], shape  # the record that does not know is named


@pytest.mark.parametrize("shape", sorted(STILL_OFFER))
def test_a_later_answer_or_the_same_day_answer_still_offers(client, shape: str) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("Offer"), (shape, card["summary"])


@pytest.mark.parametrize("shape", sorted(NOT_BLEEDING))
def test_a_later_absent_holds_the_offer_back(client, shape: str) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("Progesterone not recommended"), (shape, card["summary"])


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    episodes = audited_by_shape(export(), tmp_path)
    assert sorted(episodes) == sorted(SHAPES)
    for shape in UNKNOWN:
        assert episodes[shape]["decision"] == "needs_information", shape
        assert "vaginal_bleeding" in episodes[shape]["missing"], shape
    for shape in STILL_OFFER:
        assert episodes[shape]["decision"] == "offer", shape
    for shape in NOT_BLEEDING:
        assert episodes[shape]["decision"] == "do_not_offer", shape
