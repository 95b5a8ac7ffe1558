"""The patient-view card's engine key and the gestation from one generated call
(`engines.python._kept_untraced_and_gestation`, issue 16): the same kept parts (so the same
key) and the same gestation as `_kept_untraced` and `gestation_of` each give, on generated
episodes and both policies; and the card's path does not work the gestation out a second time."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.engines import python as engine
from earlypath.engines.python import DEFAULT_PATHWAY_POLICY, assess_for_cards, cards_assessment
from earlypath.errors import InputError
from earlypath.policy import Policy
from tests.pathway.strategies import episodes
from tests.unit.test_card_engine_key import VARIANTS

POLICIES = [Policy(), Policy(stop_at="16+6", preferred_product="cyclogest")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(episode=episodes(), policy=st.sampled_from(POLICIES))
def test_the_key_and_gestation_are_those_found_apart(
    episode: dict[str, Any], policy: Policy
) -> None:
    try:
        read = engine._read(episode, policy, DEFAULT_PATHWAY_POLICY)
    except InputError:
        return  # refused as before: `cards_assessment` raises the same error
    _, _, _, facts, gestation, parts = read
    prepared = parts.progesterone
    kept, found = engine._kept_untraced_and_gestation(prepared, facts)
    assert found == gestation
    # one kept parts object: the key the cards' function gives is `key_of`'s
    assert kept is engine._kept_untraced(prepared, facts)
    read_for_cards = cards_assessment(episode, policy)
    assert read_for_cards.kept is kept
    assert read_for_cards.assessment() == assess_for_cards(episode, policy)


@pytest.mark.parametrize("episode", VARIANTS, ids=range(len(VARIANTS)))
def test_the_cards_path_finds_the_gestation_with_the_key(
    episode: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gestation comes with the section's key: `gestation_of`'s own function is not called
    (it was, in `_read`, before the key's function computed the same nodes again)."""
    cards_assessment(episode, Policy())  # the cards' key function built
    expected = engine.gestation_of(engine._read(episode, Policy(), DEFAULT_PATHWAY_POLICY)[3])
    calls: list[Any] = []
    real = engine._gestation_days

    def counted(facts: dict[str, Any]) -> Any:
        calls.append(facts)
        return real(facts)

    monkeypatch.setattr(engine, "_gestation_days", counted)
    read = cards_assessment(episode, Policy())
    assert calls == []
    assert read.key is not None
    assert read._read[0][4] == expected
    assert read.assessment()["gestation"] == (expected.as_dict() if expected else None)
