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

from tests.integration.shape_cards import assert_decided, audited_shapes, the_card
from tests.records.latest_unknown_shapes import NOT_BLEEDING, SHAPES, STILL_OFFER, UNKNOWN, export


def _card(client: Any, shape: str) -> dict[str, Any]:
    return the_card(client, SHAPES[shape])


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
    episodes = audited_shapes(export(), SHAPES, tmp_path)
    assert_decided(episodes, UNKNOWN, "needs_information", "vaginal_bleeding")
    assert_decided(episodes, STILL_OFFER, "offer")
    assert_decided(episodes, NOT_BLEEDING, "do_not_offer")
