"""An Observation of status `preliminary` or `unknown` that would open the offer (stop 43).

Bleeding recorded as present, or a previous miscarriage, on a result not known to be verified
was read as a final one, so it opened the progesterone offer (NG126 1.5.2). Now it never does:
whether she is bleeding, or how many miscarriages she has had, is unknown and the record is
named; "absent" or a count of 0 so recorded still holds the offer back, and a later final
answer still decides. Through the ASGI app (the card) and the DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earlypath.fhir.cards import md
from earlypath.records.definition import (
    UNVERIFIED_BLEEDING_MESSAGE,
    UNVERIFIED_MISCARRIAGE_MESSAGE,
)
from tests.integration.shape_cards import assert_decided, audited_shapes, the_card
from tests.records.unverified_observation_shapes import (
    NO_OFFER,
    SHAPES,
    STILL_OFFER,
    UNKNOWN_BLEEDING,
    UNKNOWN_PREVIOUS,
    export,
)


def _card(client: Any, shape: str) -> dict[str, Any]:
    return the_card(client, SHAPES[shape])


@pytest.mark.parametrize("shape", sorted(UNKNOWN_BLEEDING))
def test_bleeding_on_an_unverified_result_is_unknown_and_named(client, shape: str) -> None:
    card = _card(client, shape)
    assert "needs whether she has vaginal bleeding" in card["summary"], (shape, card["summary"])
    assert f"- {md('Observation/bleed-obs')}: {md(UNVERIFIED_BLEEDING_MESSAGE)}" in card["detail"]


@pytest.mark.parametrize("shape", sorted(UNKNOWN_PREVIOUS))
def test_a_miscarriage_on_an_unverified_result_is_not_counted(client, shape: str) -> None:
    card = _card(client, shape)
    assert "needs number of previous miscarriages" in card["summary"], (shape, card["summary"])
    assert md(UNVERIFIED_MISCARRIAGE_MESSAGE) in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(NO_OFFER))
def test_what_holds_the_offer_back_still_counts(client, shape: str) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("Progesterone not recommended"), (shape, card["summary"])


@pytest.mark.parametrize("shape", sorted(STILL_OFFER))
def test_a_final_or_amended_answer_still_offers(client, shape: str) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("Offer"), (shape, card["summary"])


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    episodes = audited_shapes(export(), SHAPES, tmp_path)
    assert_decided(episodes, UNKNOWN_BLEEDING, "needs_information", "vaginal_bleeding")
    assert_decided(episodes, UNKNOWN_PREVIOUS, "needs_information", "previous_miscarriages")
    assert_decided(episodes, NO_OFFER, "do_not_offer")
    assert_decided(episodes, STILL_OFFER, "offer")
