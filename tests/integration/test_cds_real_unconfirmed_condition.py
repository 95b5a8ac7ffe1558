"""A Condition whose verificationStatus is unconfirmed, provisional or differential (stop 42).

It was read as a confirmed one, so a past miscarriage, or bleeding, nobody had confirmed opened
the progesterone offer (NG126 1.5.2). Now such a Condition never opens an offer: the previous
miscarriage is not counted (her number of previous miscarriages is unknown, never 0) and the
bleeding does not say she is bleeding, each named; an ectopic or a miscarriage of this pregnancy
so recorded still holds the offer back; a Condition with no verificationStatus reads as before.
Through the ASGI app (the card) and the DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earlypath.fhir.cards import md
from earlypath.records.definition import (
    UNCONFIRMED_BLEEDING_MESSAGE,
    UNCONFIRMED_MISCARRIAGE_MESSAGE,
)
from tests.integration.shape_cards import assert_decided, audited_shapes, the_card
from tests.records.unconfirmed_condition_shapes import (
    NO_OFFER,
    SHAPES,
    STILL_OFFER,
    UNKNOWN_BLEEDING,
    UNKNOWN_PREVIOUS,
    export,
)


def _card(client: Any, shape: str) -> dict[str, Any]:
    return the_card(client, SHAPES[shape])


@pytest.mark.parametrize("shape", sorted(UNKNOWN_PREVIOUS))
def test_a_previous_miscarriage_not_confirmed_is_not_counted_and_is_named(client, shape):
    card = _card(client, shape)
    assert "needs number of previous miscarriages" in card["summary"], (shape, card["summary"])
    assert f"- {md('Condition/mc1')}: {md(UNCONFIRMED_MISCARRIAGE_MESSAGE)}" in card["detail"]


@pytest.mark.parametrize("shape", sorted(UNKNOWN_BLEEDING))
def test_bleeding_not_confirmed_is_unknown_and_named(client, shape: str) -> None:
    card = _card(client, shape)
    assert "needs whether she has vaginal bleeding" in card["summary"], (shape, card["summary"])
    assert f"- {md('Condition/bleed')}: {md(UNCONFIRMED_BLEEDING_MESSAGE)}" in card["detail"]


@pytest.mark.parametrize("shape", sorted(NO_OFFER))
def test_a_diagnosis_that_holds_the_offer_back_still_counts_when_provisional(client, shape):
    card = _card(client, shape)
    assert card["summary"].startswith("Progesterone not recommended"), (shape, card["summary"])


@pytest.mark.parametrize("shape", sorted(STILL_OFFER))
def test_no_verification_status_or_a_confirmed_one_reads_as_before(client, shape: str) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("Offer"), (shape, card["summary"])
    named = f"- {md('Condition/mc0')}: {md(UNCONFIRMED_MISCARRIAGE_MESSAGE)}"
    assert (named in card["detail"]) == (shape == "confirmed-beside-unconfirmed"), shape


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    episodes = audited_shapes(export(), SHAPES, tmp_path)
    assert_decided(episodes, UNKNOWN_PREVIOUS, "needs_information", "previous_miscarriages")
    assert_decided(episodes, UNKNOWN_BLEEDING, "needs_information", "vaginal_bleeding")
    assert_decided(episodes, NO_OFFER, "do_not_offer")
    assert_decided(episodes, STILL_OFFER, "offer")
