"""The patient-view answer's JSON text, `{"cards": [decision_card(...)]}`, filled into a kept
template: the same bytes as writing the card and dumping it, without doing either each call.

Given the assessment's values the card reads (`cards._detail_key`, with the product's strength,
which only the draft order shows, and whether there is a patient id), the whole card is fixed
but for five things: its UUIDs (one, or three with a draft order), the detail's lines from the
record (evidence and problems) and the patient's id. So the text is kept per those values, cut
where the five go, and filled each call (one ``%`` of bytes). The template is made by dumping
the very card `decision_card` writes, with a marker in each of the five places; a JSON string's
escapes are character by character, so the escaped record lines appended to the escaped
engine detail are the escaped whole detail.

The service asks by the engine's key (`cards_response`): the template is kept too by the key
of what the card reads that the engine already computed (its kept parts, the plan's inputs,
the version's reason: `engines.python.CardsAssessment`), so a call whose card is kept needs
neither the assessment built nor the card's own key (about 23k instructions) worked out.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
import operator
from collections.abc import Callable
from typing import Any

import orjson

from earlypath.engines.python import CardsAssessment, cards_assessment
from earlypath.errors import Problem
from earlypath.fhir import cards
from earlypath.json_text import dumps_bytes
from earlypath.policy import Policy

# Markers of the places filled each call: private-use characters, which neither orjson nor
# json.dumps escapes and no engine text holds (a template whose markers are not each found
# once is not kept: the card is then dumped as it is).
_UUID_MARKS = tuple(f"\ue000uuid{i}\ue001" for i in range(3))
_RECORD_MARK = "\ue000record\ue001"
_PATIENT_MARK = "\ue000patient\ue001"

# A template: the text with %s where the values go (any other % doubled), the number of UUIDs
# a card draws, and which of the values (the UUIDs in the order drawn, the record's lines, the
# patient id) goes in each %s, in the text's order.
Template = tuple[bytes, int, Callable[[list[bytes]], tuple[bytes, ...]]]

TEMPLATES_KEPT = 1024  # as the card's kept details: a workload that moved on starts again
_templates: dict[tuple[Any, ...], Template | None] = {}  # None: markers not found, never filled
_UNSEEN: Template = (b"", 0, operator.itemgetter(0))


def decision_response(
    assessment: dict[str, Any],
    patient_id: str | None,
    problems: list[Problem] | None = None,
    evidence: dict[str, list[str]] | None = None,
) -> bytes:
    """`dumps_bytes({"cards": [decision_card(assessment, patient_id, problems, evidence)]})`,
    byte for byte (the UUIDs drawn in the same order)."""
    template = _template_for(assessment, patient_id)
    if template is None:  # a shape the key does not foresee, or markers not found once each
        return _dumped(assessment, patient_id, problems, evidence)
    return _filled(template, patient_id, problems, evidence)


# The template by the engine's key of what the card reads (`CardsAssessment.key`, with whether
# there is a patient id), each with the kept parts that key names by id: a call whose episode
# the engine keeps parts for needs neither the assessment built nor the card's key computed.
_by_engine_key: dict[tuple[Any, ...], tuple[Any, Template]] = {}


def cards_response(
    read: CardsAssessment,
    patient_id: str | None,
    problems: list[Problem] | None = None,
    evidence: dict[str, list[str]] | None = None,
) -> bytes:
    """`decision_response(read.assessment(), patient_id, problems, evidence)`, byte for byte;
    the assessment built only when no template is kept for the engine's key."""
    if read.key is None:
        return decision_response(read.assessment(), patient_id, problems, evidence)
    key = (read.key, not patient_id)
    entry = _by_engine_key.get(key)
    # the same kept parts (held in the entry, so their id is no other object's)
    if entry is not None and entry[0] is read.kept:
        return _filled(entry[1], patient_id, problems, evidence)
    assessment = read.assessment()
    template = _template_for(assessment, patient_id)
    if template is None:
        return _dumped(assessment, patient_id, problems, evidence)
    if len(_by_engine_key) >= TEMPLATES_KEPT:
        _by_engine_key.clear()
    _by_engine_key[key] = (read.kept, template)
    return _filled(template, patient_id, problems, evidence)


def _template_for(assessment: dict[str, Any], patient_id: str | None) -> Template | None:
    """The kept template of this assessment's card (made on first use), or None when there is
    none: a shape the key does not foresee, or markers not found once each."""
    try:
        key = _template_key(assessment, patient_id)
        # hashed once: TypeError if a value is not hashable
        template = _templates.get(key, _UNSEEN)
    except (KeyError, TypeError):
        return None
    if template is _UNSEEN:
        if len(_templates) >= TEMPLATES_KEPT:
            _templates.clear()
        template = _templates[key] = _template(assessment, patient_id)
    return template


def _filled(
    template: Template,
    patient_id: str | None,
    problems: list[Problem] | None,
    evidence: dict[str, list[str]] | None,
) -> bytes:
    text, uuids, order = template
    values = [cards._new_uuid().encode() for _ in range(uuids)]
    lines = cards.record_lines(problems, evidence)
    values.append(_inner_json("\n" + "\n".join(lines)) if lines else b"")
    values.append(_inner_json(patient_id) if patient_id else b"")
    return text % order(values)


def _dumped(
    assessment: dict[str, Any],
    patient_id: str | None,
    problems: list[Problem] | None,
    evidence: dict[str, list[str]] | None,
) -> bytes:
    return dumps_bytes({"cards": [cards.decision_card(assessment, patient_id, problems, evidence)]})


def _template_key(assessment: dict[str, Any], patient_id: str | None) -> tuple[Any, ...]:
    """What the card reads besides the detail's key: the product's strength (in the draft
    order's instruction), and whether the order names a patient."""
    plan = assessment["progesterone"].get("plan")
    strength = plan["product"]["strength_mg"] if plan else None
    return (cards._detail_key(assessment), type(strength), strength, not patient_id)


def _template(assessment: dict[str, Any], patient_id: str | None) -> Template | None:
    marks = iter(_UUID_MARKS)
    drawn: list[str] = []

    def new_uuid() -> str:
        drawn.append(next(marks))
        return drawn[-1]

    detail = cards._engine_detail(assessment) + _RECORD_MARK
    card = cards.card_of_decision(
        assessment, _PATIENT_MARK if patient_id else None, detail, new_uuid
    )
    text = dumps_bytes({"cards": [card]})
    places = []  # (where in the text, the mark's length, which value)
    for value, mark in enumerate([*drawn, _RECORD_MARK, _PATIENT_MARK]):
        found = mark.encode()
        count = text.count(found)
        # the patient's id is in the draft order only (an offer's card)
        if count > 1 or (count == 0 and mark is not _PATIENT_MARK):
            return None
        if count:
            places.append((text.index(found), len(found), value))
    places.sort()
    pieces = []
    at = 0
    for where, length, _ in places:
        pieces.append(text[at:where].replace(b"%", b"%%"))
        at = where + length
    pieces.append(text[at:].replace(b"%", b"%%"))
    # a card holds at least a UUID and its detail: the getter always gives a tuple
    order = operator.itemgetter(*[value for _, _, value in places])
    return b"%s".join(pieces), len(drawn), order


def _inner_json(text: str) -> bytes:
    """The JSON string of ``text`` without its quotes, as `dumps_bytes` writes it."""
    try:
        return orjson.dumps(text)[1:-1]
    except orjson.JSONEncodeError:  # a lone surrogate: json.dumps writes it escaped
        return json.dumps(text, ensure_ascii=False).encode("utf-8")[1:-1]


WARM_UP_DECISIONS = 8  # runs enough for the interpreter to specialise the code they run


def warm_up_cards(today: dt.date, policy: Policy) -> None:
    """A woman decided and carded as a call does, a few times (at start-up: `earlypath.web.cds.
    warm_up`). The first real call cost 1.4-1.9 ms of CPU (the next ones 0.6, 0.4, 0.35): the
    engine's and the card's code run for the first time (Python specialises a function's code
    after some runs) and the card's template made. Made up (the shipped example 01, dated
    today): no one's data; nothing is logged, nothing kept but the caches (a kept template is
    filled anew for each call: its ids, her id, the record's lines)."""
    episode = _warm_up_episode(today)
    for _ in range(WARM_UP_DECISIONS):
        cards_response(cards_assessment(episode, policy), "warm-up", [], {})


def _warm_up_episode(today: dt.date) -> dict[str, Any]:
    """The shipped example 01 (an eligible woman, made up) with its dates moved by as many
    days as take its assessment date to ``today``."""
    text = (
        importlib.resources.files("earlypath") / "examples" / "01-eligible-offer.json"
    ).read_text()
    episode: dict[str, Any] = json.loads(text)
    shift = today - dt.date.fromisoformat(episode["assessed_on"])

    def moved(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: moved(item) for key, item in value.items()}
        if isinstance(value, list):
            return [moved(item) for item in value]
        if isinstance(value, str) and len(value) == 10:
            try:
                return (dt.date.fromisoformat(value) + shift).isoformat()
            except ValueError:
                return value
        return value

    moved_episode: dict[str, Any] = moved(episode)
    return moved_episode
