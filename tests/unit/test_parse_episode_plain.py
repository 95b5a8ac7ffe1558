"""`parse_episode` of a dict of plain JSON values is read by the JSON-only validator from orjson's
text of it (issue 12 item 5: the CDS call's episode validation without a call into Python per
date or number), and answers as the model's own validator (`parse_episode_reference`) on valid
and invalid dicts: the same episode (class, fields, types, fields set) or the same problems,
word for word. Values whose JSON text would not say them as they are (NaN, infinity, a date
object, a tuple, a subclass of str, an integer beyond 64 bits) go to the model."""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.errors import InputError
from earlypath.model import Episode
from earlypath.model import episode as episode_module
from earlypath.model.episode import parse_episode, parse_episode_reference
from tests.pathway.strategies import episodes
from tests.unit.test_model_json_only import ODD_VALUES, _exact, _paths, _set

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class _Text(str):
    """A subclass of str (orjson would write it as text)."""


# Python values a dict may hold that JSON text cannot say as they are.
NOT_PLAIN: list[Any] = [
    math.nan,
    math.inf,
    -math.inf,
    dt.date(2024, 3, 4),
    dt.datetime(2024, 3, 4, 10, 30),
    ("2024-03-04",),
    _Text("2024-03-04"),
    _Text("intrauterine"),
    2**70,
    "\ud800",
    b"2024-03-04",
]


def _outcome(parse: Any, data: Any) -> Any:
    try:
        return ("episode", _exact(parse(data)))
    except InputError as error:
        return ("problems", [(p.field, p.message) for p in error.problems])


@st.composite
def episode_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A valid episode dict, or one with one to three values swapped for odd ones."""
    episode = draw(episodes())
    for _ in range(draw(st.integers(0, 3))):
        value = draw(st.sampled_from(ODD_VALUES + NOT_PLAIN))
        _set(episode, draw(st.sampled_from(_paths(episode))), copy.deepcopy(value))
    return episode


@SETTINGS
@given(episode_dicts())
def test_plain_dicts_answer_as_the_model(episode: dict[str, Any]) -> None:
    assert _outcome(parse_episode, episode) == _outcome(parse_episode_reference, episode)


@SETTINGS
@given(episodes())
def test_a_valid_plain_episode_is_read_without_the_model(episode: dict[str, Any]) -> None:
    """Not vacuous: a valid dict is answered by the JSON-only validator itself."""
    called = []
    real = Episode.model_validate

    def noted(data: Any) -> Any:
        called.append(data)
        return real(data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Episode, "model_validate", noted)
        fast = parse_episode(episode)
    assert called == []
    assert _exact(fast) == _exact(parse_episode_reference(episode))


@pytest.mark.parametrize("value", NOT_PLAIN, ids=repr)
@pytest.mark.parametrize("path", [("lmp",), ("scans", 0, "crl_mm"), ("allergies",)])
def test_what_json_would_not_say_goes_to_the_model(value: Any, path: tuple[Any, ...]) -> None:
    episode: dict[str, Any] = {
        "assessed_on": "2024-03-04",
        "lmp": "2024-01-15",
        "scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": 9.5}],
        "allergies": [],
    }
    _set(episode, path, value)
    assert episode_module._plain_json_text(episode) is None
    assert _outcome(parse_episode, episode) == _outcome(parse_episode_reference, episode)


def test_the_cds_calls_episode_is_plain() -> None:
    """What the record reading gives (texts, numbers, booleans, lists) takes the fast path."""
    from earlypath.fhir.mapping import map_resources
    from tests.integration.fhir_data import TODAY, eligible_resources

    episode = map_resources(eligible_resources(), TODAY).episode
    assert episode_module._plain_json_text(episode) is not None
    assert _exact(parse_episode(episode)) == _exact(parse_episode_reference(episode))
