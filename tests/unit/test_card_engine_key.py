"""The patient-view card kept by the engine's key (`card_text.cards_response`, issue 16): byte
for byte the card of `assess_for_cards`' assessment, for episodes that share the engine's kept
parts but not the plan's inputs (the day, the gestation, the allergies, the policy), met in any
order; and a card met before is filled without building the assessment."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import itertools
import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.engines import python as engine
from earlypath.engines.python import assess_for_cards, cards_assessment
from earlypath.errors import InputError, Problem
from earlypath.fhir import card_text, cards
from earlypath.json_text import dumps_bytes
from earlypath.policy import Policy
from tests.pathway.strategies import episodes
from tests.unit.test_card_text import OFFER, _uuids_of

POLICIES = [Policy(), Policy(stop_at="16+6", preferred_product="cyclogest")]
# One decision (an offer), its plan's inputs and the version's reason varied one at a time:
# the engine keeps one set of parts for them all, each card differs.
VARIANTS: list[dict[str, Any]] = [
    OFFER,
    {**OFFER, "assessed_on": "2024-03-05"},  # a day later: a day older, the scan the same
    {
        **OFFER,
        "assessed_on": "2024-03-11",
        "scans": [{"date": "2024-03-11", "location": "intrauterine", "crl_mm": 9.5}],
    },
    {**OFFER, "scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": 14.0}]},
    {**OFFER, "scans": [{"date": "2024-03-04", "location": "intrauterine"}]},  # dated by LMP
    {**OFFER, "allergies": ["peanut"]},
    {**OFFER, "allergies": ["penicillin"]},
    {**OFFER, "allergies": ["Soya lecithin"]},
    {**OFFER, "guideline_version": "2023-08-23"},  # the version in force, chosen as asked for
]
RECORD = (
    [Problem("Observation/9", "unreadable")],
    {"lmp": ["Observation/a"], "scans": ["Observation/1", "Observation/2"]},
)


def _checked(episode: dict[str, Any], policy: Policy, patient: str | None, record: Any) -> bytes:
    """The kept card's text, checked against the card of `assess_for_cards` dumped with the
    very UUIDs it used."""
    filled = card_text.cards_response(cards_assessment(episode, policy), patient, *record)
    cards._uuids.extend(reversed(_uuids_of(filled)))  # the next UUIDs drawn: these
    assessment = assess_for_cards(episode, policy)
    dumped = dumps_bytes({"cards": [cards.decision_card(assessment, patient, *record)]})
    assert filled == dumped
    return filled


def test_episodes_sharing_the_engine_parts_each_get_their_own_card() -> None:
    card_text._by_engine_key.clear()
    keys = {cards_assessment(episode).key[0] for episode in VARIANTS}  # type: ignore[index]
    assert len(keys) == 1  # one kept part for them all: the rest of the key tells them apart
    # every order of two: a card kept for one is never another's
    for first, second in itertools.product(VARIANTS, repeat=2):
        for policy in POLICIES:
            for patient in ("p", None):
                _checked(first, policy, patient, RECORD)
                _checked(second, policy, patient, RECORD)
                _checked(first, policy, patient, ([], {}))


def test_a_card_met_before_needs_no_assessment() -> None:
    card_text._by_engine_key.clear()
    first = cards_assessment(OFFER)
    card_text.cards_response(first, "p", *RECORD)
    assert first._built is not None  # made once from the assessment
    again = cards_assessment(OFFER)
    filled = card_text.cards_response(again, "p", *RECORD)
    assert again._built is None  # filled from the card kept for the engine's key
    cards._uuids.extend(reversed(_uuids_of(filled)))
    assert filled == card_text.decision_response(assess_for_cards(OFFER), "p", *RECORD)


def test_a_kept_part_replaced_is_not_taken_for_the_old_one() -> None:
    """The engine starts its kept parts again (bounded): a card kept for the old parts is not
    filled for the new ones, though they are equal (the id names the object, held while kept)."""
    card_text._by_engine_key.clear()
    first = cards_assessment(OFFER)
    card_text.cards_response(first, "p", *RECORD)
    for _, _, parts in engine._parts_by_id.values():
        parts.progesterone.untraced.clear()
    again = cards_assessment(OFFER)
    assert again.kept is not first.kept
    card_text.cards_response(again, "p", *RECORD)
    assert again._built is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(episode=episodes(), policy=st.sampled_from(POLICIES), patient=st.sampled_from(["p", None]))
def test_the_kept_card_is_the_card_of_the_assessment(
    episode: dict[str, Any], policy: Policy, patient: str | None
) -> None:
    try:
        assess_for_cards(episode, policy)
    except InputError:
        with pytest.raises(InputError):
            cards_assessment(episode, policy)
        return
    for _ in range(2):  # made, then from the card kept for the engine's key
        _checked(episode, policy, patient, RECORD)


def _example(name: str) -> dict[str, Any]:
    return json.loads((importlib.resources.files("earlypath") / "examples" / name).read_text())


def test_the_warm_up_makes_an_eligible_womans_card_before_the_first_call(caplog: Any) -> None:
    """Issue 16: start-up decides and cards a made-up woman (the shipped example 01, dated
    today) as a call does, so the first real call runs warm code and, for her decision, finds
    the card kept. The card filled for a real call is byte for byte the assessment's (nothing
    of the warm-up's in it); the warm-up logs nothing (`test_cds_heap.py`: start-up runs it)."""
    card_text._by_engine_key.clear()
    example = _example("01-eligible-offer.json")
    with caplog.at_level(logging.DEBUG):
        card_text.warm_up_cards(dt.date.fromisoformat(example["assessed_on"]), Policy())
    assert caplog.records == []
    read = cards_assessment(example)
    filled = card_text.cards_response(read, "p", *RECORD)
    assert read._built is None  # the card kept at start-up
    assert b"warm-up" not in filled
    cards._uuids.extend(reversed(_uuids_of(filled)))
    assert filled == card_text.decision_response(assess_for_cards(example), "p", *RECORD)


def test_the_warm_up_woman_is_dated_today() -> None:
    moved = card_text._warm_up_episode(dt.date(2024, 3, 11))  # example 01 is dated 2024-03-04
    example = _example("01-eligible-offer.json")
    assert moved["assessed_on"] == "2024-03-11" and moved["lmp"] == "2024-01-22"
    assert [scan["date"] for scan in moved["scans"]] == ["2024-03-11"]
    assert {**moved, "assessed_on": "", "lmp": "", "scans": []} == {
        **example,
        "assessed_on": "",
        "lmp": "",
        "scans": [],
    }
