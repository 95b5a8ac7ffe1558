"""Parts of a CDS call made cheaper for issue 16, holding what they gave before: card UUIDs,
the evidence lines of a card, and the patient-scope check of the usual references."""

from __future__ import annotations

import multiprocessing
import random
import re
import threading
import uuid
from typing import Any

import pytest

from earlypath.fhir import cards
from earlypath.web import patient_scope
from earlypath.web.patient_scope import scope_problem

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_card_uuids_are_random_version_4_and_all_differ() -> None:
    made = [cards._new_uuid() for _ in range(3 * cards._UUID_BLOCK + 5)]  # across blocks
    assert len(set(made)) == len(made)
    for text in made:
        assert UUID4.fullmatch(text)
        value = uuid.UUID(text)
        assert (value.version, value.variant) == (4, uuid.RFC_4122)
        assert str(value) == text
    # every variant digit turns up (the two random bits of byte 8 are kept)
    assert {text[19] for text in made} == set("89ab")


@pytest.mark.parametrize("count", [1, 2, 7, 64, 100])
def test_a_block_of_uuids_is_what_the_uuid_module_writes_of_the_same_bytes(
    count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The block's text is written column by column (stop 26): each UUID is the uuid module's
    version 4 text of its own 16 bytes of the one draw, in order."""
    drawn = random.Random(count).randbytes(16 * count)
    draws: list[int] = []

    def urandom(size: int) -> bytes:
        draws.append(size)
        return drawn

    monkeypatch.setattr(cards.os, "urandom", urandom)
    block = cards._uuid_block(count)
    assert draws == [16 * count]  # one system call for the block
    assert block == [
        str(uuid.UUID(bytes=drawn[16 * i : 16 * i + 16], version=4)) for i in range(count)
    ]


def test_uuids_drawn_from_many_threads_all_differ() -> None:
    made: list[str] = []

    def draw() -> None:
        made.extend(cards._new_uuid() for _ in range(500))

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == len(set(made)) == 4000
    assert all(UUID4.fullmatch(text) for text in made)


def _child_uuid(queue: Any) -> None:
    queue.put(cards._new_uuid())


def test_a_forked_process_draws_its_own_uuids() -> None:
    cards._new_uuid()  # the parent holds a block
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_uuid, args=(queue,))
    child.start()
    from_child = queue.get(timeout=30)
    child.join(30)
    assert from_child != cards._new_uuid()  # not the parent's next one


def _lines_escaped_one_by_one(evidence: dict[str, list[Any]]) -> list[str]:
    return [
        f"- {cards.md(fact)}: {', '.join(cards.md(r) for r in refs)}"
        for fact, refs in sorted(evidence.items())
    ]


@pytest.mark.parametrize(
    "evidence",
    [
        {"lmp": ["Observation/lmp"], "scans": ["Observation/iup", "Observation/crl"]},
        {"previous_miscarriages": ["Condition/mc1"], "on_progesterone": ["MedicationRequest/m"]},
        {"lmp": ["Observation/a_b*c"], "scans": ["Observation/<x>"]},
        {"lmp": ["Observation/x\ny"], "bleeding": ["Condition/[1](javascript:x)"]},
        {"lmp": [42, "Observation/x"]},
    ],
    ids=["plain", "fact-names", "markdown", "controls-and-links", "not-text"],
)
def test_evidence_lines_are_those_escaped_one_by_one(evidence: dict[str, list[Any]]) -> None:
    assessment = {
        "progesterone": {
            "decision": "needs_information",
            "recommendations": [],
            "reasons": [],
            "missing": [],
            "citations": [],
            "advice": [],
        },
        "guideline": {"guideline": "NG126", "version": "v", "chosen_because": "c"},
    }
    detail = cards.detail_markdown(assessment, None, evidence)
    assert detail.split("**Data used**\n")[1].split("\n") == _lines_escaped_one_by_one(evidence)


def test_plain_evidence_is_not_escaped_item_by_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """References with nothing to escape take one scan for them all; the facts' names are the
    reading's own, escaped once and kept."""
    evidence = {"lmp": ["Observation/lmp"], "vaginal_bleeding": ["Condition/bleed", "Obs/1"]}
    monkeypatch.setattr(cards, "_engine_detail", lambda assessment: "engine part")
    first = cards.detail_markdown({}, None, evidence)
    calls: list[object] = []
    md = cards.md

    def counting(value: object) -> str:
        calls.append(value)
        return md(value)

    monkeypatch.setattr(cards, "md", counting)
    detail = cards.detail_markdown({}, None, evidence)
    assert detail == first
    assert detail.endswith("- lmp: Observation/lmp\n- vaginal\\_bleeding: Condition/bleed, Obs/1")
    assert calls == []


def _bundle(*subjects: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "Observation", "id": f"o{n}", "subject": s}}
            for n, s in enumerate(subjects)
        ],
    }


def test_literal_references_need_no_identifiers(monkeypatch: pytest.MonkeyPatch) -> None:
    def refusing(resources: Any) -> Any:
        raise AssertionError("her identifiers built with no reference by identifier")

    monkeypatch.setattr(patient_scope, "patient_identifiers", refusing)
    assert scope_problem(_bundle({"reference": "Patient/p1"}), "p1") is None
    problem = scope_problem(_bundle({"reference": "Patient/p1"}, {"reference": "Patient/p2"}), "p1")
    assert problem is not None and problem.another_patient


def test_a_reference_by_identifier_is_still_tied_by_her_patient_in_the_data() -> None:
    nhs = {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}
    patient = {"resourceType": "Patient", "id": "p1", "identifier": [nhs]}
    data = [patient, _bundle({"identifier": nhs}, {"reference": "Patient/p1"})]
    assert scope_problem(data, "p1") is None
    other = [_bundle({"identifier": nhs})]
    problem = scope_problem(other, "p1")
    assert problem is not None and problem.element == "Observation.subject"
    assert not problem.another_patient


def test_an_identifier_of_a_record_merged_into_hers_is_hers() -> None:
    """Her Patient replaces another record (merged into hers) that carries the NHS number a
    resource names: one woman, as the audit ties it (`earlypath.records.identifiers`)."""
    nhs = {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}
    her = {
        "resourceType": "Patient",
        "id": "p1",
        "link": [{"other": {"reference": "Patient/p0"}, "type": "replaces"}],
    }
    old = {"resourceType": "Patient", "id": "p0", "active": False, "identifier": [nhs]}
    assert scope_problem([her, old, _bundle({"identifier": nhs})], "p1") is None
    # without her link, the old record is another patient's, and its identifier ties nothing
    unlinked = {"resourceType": "Patient", "id": "p1"}
    problem = scope_problem([unlinked, _bundle({"identifier": nhs})], "p1")
    assert problem is not None and not problem.another_patient


_HERS = {"reference": "Patient/p1"}
_PAGES: list[tuple[list[dict[str, Any]], dict[str, Any]]] = [
    ([{"resourceType": "Condition", "subject": _HERS}], {}),
    (
        [{"resourceType": "Patient", "id": "p1"}, {"resourceType": "Observation", "subject": None}],
        {},
    ),
    ([{"resourceType": "Observation", "subject": _HERS, "patient": _HERS}], {}),
    ([{"resourceType": "Condition", "subject": {"reference": "Patient/p2"}}], {}),
    ([{"resourceType": "Condition", "subject": {"reference": "urn:uuid:p1"}}], {}),
    ([{"resourceType": "Condition", "subject": "Patient/p1"}], {}),
    ([{"resourceType": "Condition", "subject": {"identifier": {"system": "s", "value": "1"}}}], {}),
    ([{"resourceType": "Condition"}], {}),
    ([{"resourceType": "Patient", "id": "p2"}], {}),
    ([{"resourceType": "Patient"}, {"resourceType": "Condition", "subject": _HERS}], {}),
    ([{"resourceType": "Condition", "subject": _HERS}], {"Patient/p1": {"id": "p2"}}),
    (
        [
            {
                "resourceType": "Patient",
                "id": "p1",
                "link": [{"type": "replaces", "other": {"reference": "Patient/p0"}}],
            },
            {"resourceType": "Condition", "subject": {"reference": "Patient/p0"}},
        ],
        {},
    ),
]


@pytest.mark.parametrize(("resources", "full_urls"), _PAGES)
def test_a_page_plainly_hers_is_answered_as_the_whole_walk_answers(
    resources: list[dict[str, Any]], full_urls: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual page (stop 26) skips the walk's lazy helpers; the answer is the walk's."""
    quick = patient_scope.walked_problem(resources, full_urls, "p1")
    plainly = patient_scope._plainly_hers(resources, full_urls, "p1")
    monkeypatch.setattr(patient_scope, "_plainly_hers", lambda *_: False)
    walked = patient_scope.walked_problem(resources, full_urls, "p1")
    assert quick == walked
    if plainly:
        assert walked is None


def test_the_split_times_the_patient_view_answer_parts() -> None:
    """`bench_cds_call.py --split` times what the patient-view answer calls: the episode read
    for the card and the kept card's text too (before stop 52 they fell in "the rest")."""
    import sys
    from pathlib import Path

    from earlypath.web import cds

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_cds_call import SPLIT_PARTS

    assert {"cards_assessment", "cards_response", "map_resources", "gather"} <= set(SPLIT_PARTS)
    # (a name the service no longer calls is skipped by the split: a checkout of another stop)
    assert callable(cds.cards_assessment) and callable(cds.cards_response)


def test_the_benchmarks_have_a_record_dated_as_ehrs_date_it() -> None:
    """`bench_cds_call.py` and `bench_records.py` read a record whose dates are timestamps as
    real systems write them ("Z", "+00:00", "+01:00" in BST, fractions of a second; a birthDate
    a date alone) beside today's: the same woman, the same episode (before stop 52 the
    benchmarks' records held dates alone, and missed what an instant costs)."""
    import datetime as dt
    import sys
    from pathlib import Path

    from earlypath.fhir.mapping import flatten, map_resources

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_cds_load import request_body

    today = dt.date(2026, 12, 1)
    plain, instants = request_body(today, 3), request_body(today, 3, instants=True)
    text = str(instants["prefetch"])
    for form in ("Z'", "+00:00'", "+01:00'", ".350", ".123456"):
        assert form in text, form
    assert instants["prefetch"]["patient"]["birthDate"] == "1994-05-12"
    read = [map_resources(flatten(list(b["prefetch"].values())), today) for b in (plain, instants)]
    assert read[0].episode == read[1].episode
