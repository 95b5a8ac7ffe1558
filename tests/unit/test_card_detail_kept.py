"""The card detail's engine part is kept per the values it is written from (issue 16, CDS call):
the text is the one written afresh for every assessment, a value met before is not written
again, numbers of another type are not confused, and what is kept stays bounded."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.engines.python import assess_for_cards
from earlypath.errors import InputError, Problem
from earlypath.fhir import cards
from earlypath.policy import Policy
from tests.pathway.strategies import episodes

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POLICIES = st.sampled_from([Policy(), Policy(stop_at="16+6", preferred_product="cyclogest")])

EPISODE = {
    "assessed_on": "2024-03-04",
    "previous_miscarriages": 1,
    "vaginal_bleeding": True,
    "lmp": "2024-01-15",
    "scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": 9.5}],
}
EVIDENCE = {"lmp": ["Observation/a_b"], "scans": ["Observation/<x>", "Observation/2"]}
PROBLEMS = [Problem("Observation/9", "value [unreadable]; ignored")]


def written_afresh(
    assessment: dict[str, Any],
    problems: list[Problem] | None = None,
    evidence: dict[str, list[str]] | None = None,
    extra: list[str] | None = None,
) -> str:
    """The detail as written before anything was kept: every line from the assessment."""
    lines = (extra + [""] if extra else []) + cards._engine_lines(assessment)
    if evidence:
        lines += ["", "**Data used**"]
        lines += [
            f"- {cards.md(fact)}: {', '.join(cards.md(r) for r in refs)}"
            for fact, refs in sorted(evidence.items())
        ]
    if problems:
        lines += ["", "**Data that could not be used**"]
        lines += [f"- {cards.md(p.field)}: {cards.md(p.message)}" for p in problems]
    return "\n".join(lines)


@SETTINGS
@given(episode=episodes(), policy=POLICIES)
def test_the_kept_detail_is_the_detail_written_afresh(
    episode: dict[str, Any], policy: Policy
) -> None:
    try:
        assessment = assess_for_cards(episode, policy)
    except InputError:
        return
    for _ in range(2):  # written, then kept
        for problems, evidence, extra in (
            (None, None, None),
            (PROBLEMS, EVIDENCE, None),
            (PROBLEMS, EVIDENCE, ["Before this order (MedicationRequest/1) ..."]),
        ):
            got = cards.detail_markdown(assessment, problems, evidence, extra)
            assert got == written_afresh(assessment, problems, evidence, extra)


def test_a_value_met_before_is_not_written_again(monkeypatch: pytest.MonkeyPatch) -> None:
    assessment = assess_for_cards(EPISODE)
    first = cards.detail_markdown(assessment, PROBLEMS, EVIDENCE)

    def refuse(_: dict[str, Any]) -> list[str]:
        raise AssertionError("written again")

    monkeypatch.setattr(cards, "_engine_lines", refuse)
    again = assess_for_cards(copy.deepcopy(EPISODE))
    assert cards.detail_markdown(again, PROBLEMS, EVIDENCE) == first
    # the record's part is never kept: other evidence, other text
    other = cards.detail_markdown(again, [], {"lmp": ["Observation/other"]})
    assert "Observation/other" in other and "Observation/a\\_b" not in other


def test_a_number_of_another_type_is_another_text() -> None:
    assessment = assess_for_cards(EPISODE)
    as_int = cards.detail_markdown(assessment)
    changed = copy.deepcopy(assessment)
    changed["progesterone"]["plan"]["dose_mg"] = float(
        assessment["progesterone"]["plan"]["dose_mg"]
    )
    as_float = cards.detail_markdown(changed)
    assert as_float == written_afresh(changed)
    assert as_float != as_int and "400.0 mg" in as_float


def test_a_shape_the_key_does_not_foresee_is_written_afresh() -> None:
    assessment = assess_for_cards(EPISODE)
    odd = copy.deepcopy(assessment)
    odd["progesterone"]["reasons"] = [["a list where text was"]]
    kept = len(cards._details)
    with pytest.raises(TypeError):  # as before: _words cannot take a list either
        cards.detail_markdown(odd)
    assert len(cards._details) == kept


def test_what_is_kept_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cards, "DETAILS_KEPT", 3)
    monkeypatch.setattr(cards, "_details", {})
    assessment = assess_for_cards(EPISODE)
    for n in range(10):
        changed = copy.deepcopy(assessment)
        changed["progesterone"]["reasons"] = [f"reason {n}"]
        assert cards.detail_markdown(changed) == written_afresh(changed)
        assert len(cards._details) <= 3
