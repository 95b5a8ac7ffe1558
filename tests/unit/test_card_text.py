"""The patient-view answer's text filled into a kept template (issue 16, CDS call): byte for byte
`{"cards": [decision_card(...)]}` dumped, for generated assessments of every decision, with the
record's evidence and problems (plain, to escape, a lone surrogate), with and without a patient
id, filled again from the kept template; a value of another type or a new product strength is
another template; what is kept stays bounded."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.engines.python import assess_for_cards
from earlypath.errors import InputError, Problem
from earlypath.fhir import card_text, cards
from earlypath.json_text import dumps_bytes
from earlypath.policy import Policy
from tests.pathway.strategies import episodes

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POLICIES = st.sampled_from([Policy(), Policy(stop_at="16+6", preferred_product="cyclogest")])

OFFER = {
    "assessed_on": "2024-03-04",
    "previous_miscarriages": 1,
    "vaginal_bleeding": True,
    "lmp": "2024-01-15",
    "scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": 9.5}],
}
RECORDS: list[tuple[list[Problem] | None, dict[str, list[str]] | None]] = [
    (None, None),
    ([], {}),
    (None, {"lmp": ["Observation/a-b"], "scans": ["Observation/1", "Observation/2"]}),
    (
        [Problem("Observation/9", 'value "50%" [unreadable]\n; ignored')],
        {"lmp": ["Observation/<x>"], "scans": ["Observation/%s", "Observation/\\n"]},
    ),
    ([Problem("Condition/\ud800", "a lone surrogate \udfff here")], None),
]
PATIENTS = ["p", None, "a.b-9", ""]


def _uuids_of(text: bytes) -> list[str]:
    """The card's UUIDs in the order they were drawn: the card's, the order's, the suggestion's."""
    card = orjson.loads(text)["cards"][0]
    drawn = [card["uuid"]]
    for suggestion in card.get("suggestions", []):
        drawn += [suggestion["actions"][0]["resource"]["id"], suggestion["uuid"]]
    return drawn


def _as_dumped(
    assessment: dict[str, Any], patient: str | None, problems: Any, evidence: Any
) -> bytes | None:
    """The template's text, checked against the card dumped as it is with the very UUIDs the
    template used; where dumping the card raises (a lone surrogate UTF-8 cannot hold), the
    same error, and None."""
    try:
        filled = card_text.decision_response(assessment, patient, problems, evidence)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            dumps_bytes({"cards": [cards.decision_card(assessment, patient, problems, evidence)]})
        return None
    # the next UUIDs handed out are these, in the order drawn (`_new_uuid` pops from the end)
    cards._uuids.extend(reversed(_uuids_of(filled)))
    dumped = dumps_bytes({"cards": [cards.decision_card(assessment, patient, problems, evidence)]})
    assert filled == dumped
    return filled


@SETTINGS
@given(episode=episodes(), policy=POLICIES)
def test_the_filled_text_is_the_card_dumped(episode: dict[str, Any], policy: Policy) -> None:
    try:
        assessment = assess_for_cards(episode, policy)
    except InputError:
        return
    for _ in range(2):  # made, then filled from the kept template
        for problems, evidence in RECORDS:
            for patient in PATIENTS:
                _as_dumped(assessment, patient, problems, evidence)


def test_an_offer_is_filled_from_the_kept_template(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(card_text, "_templates", {})
    assessment = assess_for_cards(OFFER)
    assert assessment["progesterone"]["decision"] == "offer"
    first = _as_dumped(assessment, "p", *RECORDS[2])
    assert first is not None
    assert len(card_text._templates) == 1
    # a kept template is used: the card is not written again (its order is not built)
    monkeypatch.setattr(cards, "plan_to_medication_request", None)
    again = _as_dumped_filled_only(assessment, "p", *RECORDS[2])
    assert len(_uuids_of(again)) == 3 and len(set(_uuids_of(again) + _uuids_of(first))) == 6
    assert _without_uuids(again) == _without_uuids(first)
    assert b"Patient/p" in again and b"Observation/a-b" in again


def _as_dumped_filled_only(assessment: dict[str, Any], patient: str, *record: Any) -> bytes:
    return card_text.decision_response(assessment, patient, *record)


def _without_uuids(text: bytes) -> bytes:
    for uuid in _uuids_of(text):
        text = text.replace(uuid.encode(), b"(uuid)")
    return text


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"previous_miscarriages": 0},  # do not offer
        {"vaginal_bleeding": None},  # needs information
        {"on_progesterone": True},  # continue
        {"on_progesterone": True, "scans": [{"date": "2024-03-04", "location": "ectopic"}]},  # stop
    ],
)
@pytest.mark.parametrize("patient", ["p", None])
def test_every_decision_is_filled_from_a_template(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any], patient: str | None
) -> None:
    monkeypatch.setattr(card_text, "_templates", {})
    assessment = assess_for_cards({**OFFER, **changes})
    for _ in range(2):
        _as_dumped(assessment, patient, *RECORDS[3])
    assert len(card_text._templates) == 1 and None not in card_text._templates.values()


def test_another_strength_or_number_type_is_another_template() -> None:
    assessment = assess_for_cards(OFFER)
    plain = _as_dumped(assessment, "p", None, None)
    assert plain is not None
    stronger = copy.deepcopy(assessment)
    stronger["progesterone"]["plan"]["product"]["strength_mg"] = 100
    assert b"of 100 mg" in (_as_dumped(stronger, "p", None, None) or b"")
    as_float = copy.deepcopy(assessment)
    plan = as_float["progesterone"]["plan"]
    plan["product"]["strength_mg"] = float(plan["product"]["strength_mg"])
    plan["units_first_14_days"] = float(plan["units_first_14_days"])
    assert _as_dumped(as_float, "p", None, None) != plain


def test_an_unforeseen_shape_is_answered_as_the_card_itself() -> None:
    """A value the key cannot hold, or a field missing: no template, and the error the card
    itself raises (a 500 as before), never a text of another card."""
    assessment = assess_for_cards(OFFER)
    unhashable = copy.deepcopy(assessment)
    unhashable["progesterone"]["reasons"] = [["a list", "is not text"]]
    no_strength = copy.deepcopy(assessment)
    del no_strength["progesterone"]["plan"]["product"]["strength_mg"]
    kept = len(card_text._templates)
    for odd, error in ((unhashable, TypeError), (no_strength, KeyError)):
        with pytest.raises(error):
            cards.decision_card(odd, "p")
        with pytest.raises(error):
            card_text.decision_response(odd, "p")
    assert len(card_text._templates) == kept


def test_what_is_kept_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(card_text, "_templates", {})
    monkeypatch.setattr(card_text, "TEMPLATES_KEPT", 3)
    assessment = assess_for_cards(OFFER)
    for strength in range(10):
        changed = copy.deepcopy(assessment)
        changed["progesterone"]["plan"]["product"]["strength_mg"] = strength
        _as_dumped(changed, "p", None, None)
        assert len(card_text._templates) <= 3
