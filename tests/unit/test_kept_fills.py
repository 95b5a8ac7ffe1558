"""What a kept whole assessment fills per episode, kept in turn (issue 16, sixth round): a
render's text by the values it read (`sections._rendered_text`), the values read by one
generated function (`fused.exact_values_function`), the plan's text cut at its dates
(`python._plan_text`) and the gestation's text. Each against its reference: the render run
again, the closures, `build_plan`, the JSON of the whole assessment."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath import assess, parse_episode_json
from earlypath.engines import python as engine
from earlypath.engines import sections as engine_sections
from earlypath.engines.fragments import text_of
from earlypath.engines.fused import exact_values_function
from earlypath.engines.python import assess_json
from earlypath.facts import episode_facts
from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY, PathwayPolicy, sections
from earlypath.guideline.versions import VERSIONS
from earlypath.policy import DEFAULT_POLICY, Policy
from tests.pathway.strategies import episodes

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PATHWAY_POLICIES = (DEFAULT_PATHWAY_POLICY, PathwayPolicy("rewrite-unverified"))


@pytest.fixture(autouse=True)
def key_from_the_first_assessment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "WHOLE_KEY_AFTER", 1)


def _facts(episode: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return episode_facts(parse_episode_json(json.dumps(episode)))
    except Exception:  # noqa: BLE001 - episodes the contract refuses have no facts
        return None


def _reference(episode: Any, pathway: PathwayPolicy) -> bytes:
    data = assess(episode, pathway_policy=pathway)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


@SETTINGS
@given(episodes())
def test_generated_values_are_the_closures(episode: dict[str, Any]) -> None:
    """Every section's values from one generated function == each closure's, exactly."""
    facts = _facts(episode)
    if facts is None:
        return
    for version in VERSIONS:
        for pathway in PATHWAY_POLICIES:
            for section in sections():
                prepared = engine_sections.prepare(section, version.version, pathway)
                names = tuple(prepared.value_exprs)
                exact = exact_values_function([prepared.value_exprs[n] for n in names])
                values = {n: prepared.value_fns[n](facts) for n in names}
                want = engine_sections._exact_key(values, names)
                assert exact(facts) == want


def test_exactly_tells_apart_what_a_render_could_write_otherwise() -> None:
    exactly = engine_sections._exactly
    assert len({exactly(True), exactly(1), exactly(1.0)}) == 3
    assert exactly(0.0) != exactly(-0.0)
    assert exactly(math.nan) == exactly(math.nan)
    assert exactly(dt.date(2024, 3, 1)) == exactly(dt.date(2024, 3, 1))


@SETTINGS
@given(episodes(), st.integers(-400, 400))
def test_kept_fills_are_the_reference_bytes(episode: dict[str, Any], shift: int) -> None:
    """An episode, the same episode with every date moved (the same keys, other values), and
    the first again: each text the reference's, whether filled from what was kept or not."""
    moved = json.loads(json.dumps(episode))
    for name in ("assessed_on", "lmp"):
        if moved.get(name):
            moved[name] = (dt.date.fromisoformat(moved[name]) + dt.timedelta(shift)).isoformat()
    for scan in moved.get("scans", []):
        scan["date"] = (dt.date.fromisoformat(scan["date"]) + dt.timedelta(shift)).isoformat()
    for pathway in PATHWAY_POLICIES:
        for one in (episode, moved, episode, moved):
            try:
                parsed = parse_episode_json(json.dumps(one))
            except Exception:  # noqa: BLE001 - refused by the contract: nothing to compare
                continue
            try:
                want = _reference(parsed, pathway)
            except Exception as error:  # noqa: BLE001 - e.g. a date before NG126: the same error
                with pytest.raises(type(error)):
                    assess_json(parsed, pathway_policy=pathway)
                continue
            assert assess_json(parsed, pathway_policy=pathway) == want


def test_a_render_text_is_kept_and_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second time a template is filled with the same values read, no render runs."""
    texts = [
        json.dumps({"assessed_on": "2024-03-01", "scans": [], "lmp": day})
        for day in ("2024-01-20", "2024-01-21", "2024-01-22")
    ]
    for pathway in PATHWAY_POLICIES:
        for text in texts:
            assess_json(parse_episode_json(text), pathway_policy=pathway)
    rendered = 0
    real = engine_sections._Reads

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self, values: Any) -> None:
            nonlocal rendered
            rendered += 1
            super().__init__(values)

    monkeypatch.setattr(engine_sections, "_Reads", Counted)
    for text in texts:
        parsed = parse_episode_json(text)
        assert assess_json(parsed) == _reference(parsed, DEFAULT_PATHWAY_POLICY)
    assert rendered == 0


def test_a_kept_render_is_read_by_the_generated_function_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Filled again, a kept render's values are read by the generated function: the lazy
    values mapping is not made (eighth round), and the text is still the reference's."""
    texts = [
        json.dumps({"assessed_on": "2024-03-01", "scans": [], "lmp": day})
        for day in ("2024-01-20", "2024-01-21", "2024-01-22")
    ]
    for text in texts:
        assess_json(parse_episode_json(text))
    made = 0
    real = engine_sections._Values

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self, fns: Any, facts: Any) -> None:
            nonlocal made
            made += 1
            super().__init__(fns, facts)

    monkeypatch.setattr(engine_sections, "_Values", Counted)
    for text in texts:
        parsed = parse_episode_json(text)
        assert assess_json(parsed) == _reference(parsed, DEFAULT_PATHWAY_POLICY)
    assert made == 0


@settings(max_examples=300, deadline=None)
@given(
    st.dates(dt.date(1950, 1, 1), dt.date(2150, 12, 31)),
    st.integers(0, 200),
    st.booleans(),
    st.lists(st.sampled_from(["peanut", "penicillin", "soya", "latex"]), max_size=2),
    st.sampled_from(["offer", "continue", "stop", "needs_information"]),
    st.sampled_from([DEFAULT_POLICY, Policy(stop_at="16+6")]),
)
def test_plan_text_is_build_plans(
    day: dt.date,
    days: int,
    crl: bool,
    allergies: list[str],
    outcome: str,
    policy: Policy,
) -> None:
    """The plan's text filled from its cut (made for another date) == `_plan`'s own text."""
    episode = parse_episode_json(json.dumps({"assessed_on": "2024-03-01", "allergies": allergies}))
    gestation = engine.Gestation(days, "crl" if crl else "lmp")
    prepared = engine._progesterone(VERSIONS[-1].version, policy)
    for assessed_on in (day, day + dt.timedelta(days=1), dt.date(2024, 3, 1)):
        moved = episode.model_copy(update={"assessed_on": assessed_on})
        want = text_of(engine._plan(moved, policy, gestation, outcome))
        assert engine._plan_text(prepared, moved, policy, gestation, outcome) == want
    assert engine._plan_text(prepared, episode, policy, None, outcome) == b"null"


def test_gestation_text_is_its_data() -> None:
    """The gestation and its text, found together (made, then kept): its data's text."""
    for gestation in (
        engine.Gestation(70, "lmp"),
        engine.Gestation(70, "crl", dt.date(2024, 2, 1)),
        engine.Gestation(71, "crl", dt.date(2024, 2, 1)),
    ):
        crl_days = None if gestation.basis == "lmp" else gestation.days
        facts = {"dating_scan_date": gestation.dating_scan_date}
        for _ in range(2):
            found, text = engine._gestation_and_text(gestation.days, crl_days, facts)
            assert found == gestation
            assert text == orjson.dumps(gestation.as_dict())
            assert engine._gestation_text(gestation) == text
    assert engine._gestation_and_text(None, None, {}) == (None, b"null")
    assert engine._gestation_text(None) == b"null"


def test_reads_is_a_whole_mapping() -> None:
    """A render may read its values any way a mapping is read; each read is recorded."""
    reads = engine_sections._Reads({"a": 1, "b": None})
    assert list(reads.values()) == [1, None] and reads.get("a") == 1 and "b" in reads
    assert len(reads) == 2 and list(reads) == ["a", "b"]
    assert reads.names == ["a", "b", "a", "b"]
