"""`assess` of a whole assessment read back from its JSON text (kept per assessment key): the
same data, of the same types, as the data path builds it (issue 16)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from earlypath import parse_episode_json
from earlypath.engines import python as engine
from earlypath.engines.python import assess
from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY, PathwayPolicy
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


def _built(episode: Any, pathway: PathwayPolicy = DEFAULT_PATHWAY_POLICY) -> dict[str, Any]:
    """The data path as it builds the assessment (no text)."""
    return engine._assessment(episode, DEFAULT_POLICY, pathway, None, raw=False)


def _same(got: Any, want: Any, where: str = "") -> None:
    assert type(got) is type(want), where
    if isinstance(want, dict):
        assert list(got) == list(want), where
        for key, value in want.items():
            _same(got[key], value, f"{where}.{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), where
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            _same(a, b, f"{where}[{i}]")
    else:
        assert got == want, where


@SETTINGS
@given(episodes())
def test_read_back_is_the_built_data(episode: dict[str, Any]) -> None:
    try:
        validated = parse_episode_json(json.dumps(episode))
    except Exception:  # noqa: BLE001 - episodes the contract refuses
        return
    for pathway in (DEFAULT_PATHWAY_POLICY, PathwayPolicy("rewrite-unverified")):
        _same(assess(validated, pathway_policy=pathway), _built(validated, pathway))


def test_read_back_is_the_built_data_on_the_benchmark_episodes() -> None:
    for text in generate(3000, seed=31):
        episode = parse_episode_json(text)
        _same(assess(episode), _built(episode))
        _same(assess(episode), _built(episode))  # the second time from a kept template


def test_each_call_is_a_new_copy() -> None:
    episode = parse_episode_json('{"assessed_on": "2024-03-04", "lmp": "2024-01-15"}')
    first = assess(episode)
    first["progesterone"]["reasons"].append("changed by the caller")
    first["guideline"]["version"] = "changed"
    _same(assess(episode), _built(episode))


def test_text_that_does_not_read_back_leaves_the_data_path_to_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    episode = parse_episode_json('{"assessed_on": "2024-03-04", "lmp": "2024-01-15"}')
    want = _built(episode)
    monkeypatch.setattr(engine, "_whole_json", lambda *args: b'"\\ud800"')
    _same(assess(episode), want)


def test_a_kept_assessment_is_read_back_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    episodes = [parse_episode_json(text) for text in generate(300, seed=37)]
    want = [_built(episode) for episode in episodes]
    for episode in episodes:
        assess(episode)  # each key met (and its template kept)

    def not_called(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the data path built an assessment whose text is kept")

    monkeypatch.setattr(engine, "_assessment", not_called)
    monkeypatch.setattr(engine, "_assessment_of", not_called)
    for episode, data in zip(episodes, want, strict=True):
        _same(assess(episode), data)
