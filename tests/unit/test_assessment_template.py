"""The full assessment kept per assessment key (`earlypath.engines.assessment_template`): the
one generated key of every section against each section's own key function, and the filled
text against the reference bytes (issue 16)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from earlypath import assess, parse_episode_json
from earlypath.engines import python as engine
from earlypath.engines.assessment_template import GESTATION, AssessmentTemplate
from earlypath.engines.python import assess_json
from earlypath.engines.templates import NOT_KEPT
from earlypath.facts import episode_facts
from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY, PathwayPolicy, sections
from earlypath.guideline.versions import VERSIONS
from earlypath.policy import DEFAULT_POLICY
from tests.pathway.strategies import episodes

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from bench_assess import generate  # noqa: E402

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def key_from_the_first_assessment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The assessment key is built at the first full assessment (not after 50, as a one-shot
    process would want): these tests look at kept whole assessments from the start."""
    monkeypatch.setattr(engine, "WHOLE_KEY_AFTER", 1)


PATHWAY_POLICIES = (DEFAULT_PATHWAY_POLICY, PathwayPolicy("rewrite-unverified"))
EVERY_PARTS = [
    engine._parts(version, DEFAULT_POLICY, pathway)
    for version in VERSIONS
    for pathway in PATHWAY_POLICIES
]


def _reference(episode: Any, pathway: PathwayPolicy = DEFAULT_PATHWAY_POLICY) -> bytes:
    data = assess(episode, pathway_policy=pathway)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _keys_agree(facts: dict[str, Any]) -> None:
    for parts in EVERY_PARTS:
        whole = parts.assessment_key()
        assert whole is not None
        each = [
            parts.progesterone.key_of(facts),
            *(parts.sections[s.name].key_function()(facts) for s in sections()),
        ]
        key, days, crl_days = whole(facts)
        # one flat tuple: the sections' own (flat) keys one after the other, each ending with
        # the plain facts it shows; a fact an earlier section shows is held there only
        flat: list[Any] = []
        for number, (one, shown) in enumerate(zip(each, whole.shown, strict=True)):
            start = len(one) - len(shown)
            assert one[start:] == tuple(facts[name] for name, _ in shown)
            flat += one[:start]
            for value, (name, held_here) in zip(one[start:], shown, strict=True):
                if held_here:
                    flat.append(value)
                else:  # left out: an earlier section's shown facts hold it
                    assert any((name, True) in before for before in whole.shown[:number])
        assert key == tuple(flat)
        # and the gestation's two values, as `gestation_of` computes them (the closures'
        # values: tests/unit/test_fused.py)
        assert (days, crl_days) == (engine._gestation_days(facts), engine._crl_days(facts))
        assert engine._gestation(days, crl_days, facts) == engine.gestation_of(facts)


@SETTINGS
@given(episodes())
def test_the_assessment_key_is_every_section_key(episode: dict[str, Any]) -> None:
    try:
        facts = episode_facts(parse_episode_json(json.dumps(episode)))
    except Exception:  # noqa: BLE001 - episodes the contract refuses have no facts
        return
    _keys_agree(facts)


def test_the_assessment_key_is_every_section_key_on_the_benchmark_episodes() -> None:
    for text in generate(1500, seed=17):
        _keys_agree(episode_facts(parse_episode_json(text)))


@pytest.fixture
def fresh_templates() -> Iterator[None]:
    """No assessment or section key met yet (kept texts of earlier tests put aside)."""

    def clear() -> None:
        for parts in EVERY_PARTS:
            parts.whole.clear()
            parts.progesterone.by_key.clear()
            for prepared in parts.sections.values():
                prepared.by_key.clear()

    clear()
    yield
    clear()


def test_the_assessment_key_holds_each_shown_fact_once() -> None:
    """Plain facts several sections show (the scan's location, the bleeding) are held once in
    the whole key: a shorter key to build, hash and compare."""
    for parts in EVERY_PARTS:
        whole = parts.assessment_key()
        assert whole is not None
        held = [name for shown in whole.shown for name, here in shown if here]
        repeated = [name for shown in whole.shown for name, here in shown if not here]
        assert len(held) == len(set(held)) and repeated
        assert set(repeated) <= set(held)
        facts = episode_facts(parse_episode_json('{"assessed_on": "2024-03-04"}'))
        each = [
            parts.progesterone.key_of(facts),
            *(parts.sections[s.name].key_function()(facts) for s in sections()),
        ]
        assert len(whole(facts)[0]) == sum(len(one) for one in each) - len(repeated)


def test_kept_assessments_are_the_reference_bytes(
    fresh_templates: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each text twice: first section by section (the template is made), then from the kept
    template alone (the section-by-section path is not called); both the reference bytes."""
    episodes = [parse_episode_json(text) for text in generate(2000, seed=23)]
    for pathway in PATHWAY_POLICIES:
        for episode in episodes:
            assert assess_json(episode, pathway_policy=pathway) == _reference(episode, pathway)
    kept = [p.whole for p in EVERY_PARTS]
    assert sum(len(k) for k in kept) > 200
    assert not any(t is NOT_KEPT for k in kept for t in k.values())

    def not_called(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the section-by-section path ran for a kept key")

    reference = {id(e): {p: _reference(e, p) for p in PATHWAY_POLICIES} for e in episodes}
    monkeypatch.setattr(engine, "_assessment_of", not_called)
    for pathway in PATHWAY_POLICIES:
        for episode in episodes:
            assert assess_json(episode, pathway_policy=pathway) == reference[id(episode)][pathway]


def test_many_episodes_share_an_assessment_key(fresh_templates: None) -> None:
    """The point of the key: dates and measurements differ, the kept template is shared."""
    texts = generate(3000, seed=29)
    for text in texts:
        assess_json(parse_episode_json(text))
    kept = sum(len(p.whole) for p in EVERY_PARTS)
    assert kept < len(texts) / 2


def test_a_hole_that_cannot_be_written_leaves_the_sections_to_decide(
    fresh_templates: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = '{"assessed_on": "2024-03-04", "lmp": "2024-01-15", "vaginal_bleeding": true}'
    episode = parse_episode_json(text)
    want = _reference(episode)
    assert assess_json(episode) == want  # the template is made
    (template,) = [t for p in EVERY_PARTS for t in p.whole.values()]
    calls: list[str] = []

    def cannot(*args: Any) -> None:
        calls.append("hole")

    # a function hole that cannot write its value, where the gestation's text goes
    at = template.gestation_at
    monkeypatch.setattr(template, "calls", ((at, cannot), *template.calls))
    assert assess_json(episode) == want
    assert calls == ["hole"]


def test_a_template_fills_each_hole_in_its_place() -> None:
    """Fact holes and function holes, in turn and side by side, each written where it stands
    (the fact holes are filled before the function holes, into their own slots)."""
    day = dt.date(2024, 3, 4)

    def hole(text: bytes) -> Any:
        return lambda episode, facts, gestation: text

    template = AssessmentTemplate(
        [b"{", "d", b",", hole(b"1"), hole(b"2"), "n", b",", "f", hole(b"3"), b"", "d", b"}"]
    )
    facts = {"d": day, "n": None, "f": 2.5e-05}
    assert template.fill(None, facts, None) == b'{"2024-03-04",12null,2.5e-053"2024-03-04"}'
    assert AssessmentTemplate(["d"]).fill(None, facts, None) == b'"2024-03-04"'
    # a fact or a hole that cannot be written: no text (the sections decide)
    assert AssessmentTemplate([b"[", "s", b"]"]).fill(None, {"s": "\ud800"}, None) is None
    assert AssessmentTemplate([b"[", "d", hole(None), b"]"]).fill(None, facts, None) is None


def test_the_gestation_is_written_from_the_fill_s_argument() -> None:
    """The gestation's place in a whole assessment is filled with the text its caller found
    with the gestation (`_gestation_and_text`), not by a hole; no text, no assessment."""
    template = AssessmentTemplate([b"{", GESTATION, b",", "d", b"}"])
    facts = {"d": dt.date(2024, 3, 4)}
    assert template.fill(None, facts, None, b'{"days":70}') == b'{{"days":70},"2024-03-04"}'
    assert template.fill(None, facts, None, b"null") == b'{null,"2024-03-04"}'
    assert template.fill(None, facts, None) is None  # the sections decide
    with pytest.raises(ValueError, match="one gestation"):
        AssessmentTemplate([GESTATION, b",", GESTATION])


def test_a_template_that_would_differ_is_not_kept(
    fresh_templates: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A template is checked against the section-by-section text when it is made."""
    episode = parse_episode_json('{"assessed_on": "2024-03-04", "lmp": "2024-01-15"}')
    monkeypatch.setattr(engine, "_gestation_text", lambda *args: b'"not the gestation"')
    assert assess_json(episode) == _reference(episode)
    kept = [t for p in EVERY_PARTS for t in p.whole.values()]
    assert kept == [NOT_KEPT]
    assert assess_json(episode) == _reference(episode)


def test_equal_policies_made_per_call_share_the_key_and_the_templates() -> None:
    """A caller that makes its policies per call does not build the key function again."""
    episode = parse_episode_json('{"assessed_on": "2024-03-04", "lmp": "2024-01-15"}')
    version = VERSIONS[-1]
    first = engine._parts(version, dataclasses.replace(DEFAULT_POLICY), PathwayPolicy())
    second = engine._parts(version, dataclasses.replace(DEFAULT_POLICY), PathwayPolicy())
    assert first is not second
    assert first.assessment_key() is second.assessment_key() is not None
    assert first.whole is second.whole
    policy = dataclasses.replace(DEFAULT_POLICY)
    assert assess_json(episode, policy) == _reference(episode)


def test_the_key_function_is_built_after_some_assessments(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-shot process (one `earlypath assess`) does not pay for writing the key function."""
    monkeypatch.setattr(engine, "WHOLE_KEY_AFTER", 50)
    parts = dataclasses.replace(EVERY_PARTS[0], _whole_key=engine._WholeKey())
    assert [parts.assessment_key() for _ in range(49)] == [None] * 49
    built = parts.assessment_key()
    assert built is not None and parts.assessment_key() is built


def _rendered_holes(template: Any) -> list[str]:
    """The sections whose rendered values a kept whole assessment fills per episode."""
    return [
        inspect.getclosurevars(hole).nonlocals["section"].name
        for _, hole in template.calls
        if getattr(hole, "__qualname__", "").startswith("_rendered_hole")
    ]


def test_a_render_reading_only_facts_the_key_holds_is_text_not_a_hole(
    fresh_templates: None,
) -> None:
    """Referral's and the scan section's renders read only whether the scan report was read
    (a test of the scan's location, which the key holds): their rendered values are the same
    for every episode of the key, so the kept assessment holds them as text. The hCG
    section's render reads the samples (not held): still a hole."""
    text = '{"assessed_on": "2024-03-04", "lmp": "2024-01-15", "vaginal_bleeding": true}'
    episode = parse_episode_json(text)
    assert assess_json(episode) == _reference(episode)  # the template is made
    (template,) = [t for p in EVERY_PARTS for t in p.whole.values()]
    assert _rendered_holes(template) == ["hcg_assessment"]
    assert assess_json(episode) == _reference(episode)  # filled from it


def test_an_unread_report_names_each_episodes_scan_day(
    fresh_templates: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a render reads a value the key does not hold (the unread report's scan day),
    the rendered values stay a hole: two episodes of one key, each with its own day, both
    filled from the one kept template, each the reference bytes."""

    def episode(day: str) -> Any:
        scan = {"date": day, "location": "report_not_read"}
        return parse_episode_json(
            json.dumps({"assessed_on": "2024-03-04", "lmp": "2024-01-15", "scans": [scan]})
        )

    first, second = episode("2024-03-01"), episode("2024-02-27")
    want = _reference(second)
    assert b"The scan report of 2024-02-27 has not been read" in want
    assert assess_json(first) == _reference(first)  # the template is made
    (template,) = [t for p in EVERY_PARTS for t in p.whole.values()]
    assert "referral" in _rendered_holes(template)

    def not_called(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the section-by-section path ran for a kept key")

    monkeypatch.setattr(engine, "_assessment_of", not_called)
    assert assess_json(second) == want
