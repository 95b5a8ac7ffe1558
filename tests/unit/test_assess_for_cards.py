"""The CDS cards' assessment (`assess_for_cards`, issue 12 item 5): the progesterone section
without its trace, kept per generated key, is `assess`'s section less the trace, and the cards
made from it are the cards made from `assess`."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.engines import python as engine
from earlypath.engines.python import assess, assess_for_cards
from earlypath.engines.tables import CompiledTable
from earlypath.errors import InputError
from earlypath.fhir.cards import decision_card
from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY
from earlypath.policy import Policy
from tests.pathway.strategies import episodes

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POLICIES = st.sampled_from([Policy(), Policy(stop_at="16+6", preferred_product="cyclogest")])


EPISODE = {
    "assessed_on": "2024-03-04",
    "previous_miscarriages": 1,
    "vaginal_bleeding": True,
    "lmp": "2024-01-15",
    "scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": 9.5}],
}


def untraced(assessment: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(assessment)
    del out["progesterone"]["trace"]
    return out


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def card(assessment: dict[str, Any]) -> str:
    """The card's JSON text, its new-each-time ids (card, suggestion, order) blanked."""
    return UUID.sub("(id)", json.dumps(decision_card(assessment, "p", [], {}), sort_keys=True))


def either(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except InputError as error:
        return ("InputError", [(p.field, p.message) for p in error.problems])


@SETTINGS
@given(episodes(), POLICIES)
def test_the_section_less_its_trace_and_the_same_card(episode: dict, policy: Policy) -> None:
    want = either(lambda: assess(episode, policy, sections=("progesterone",)))
    for _ in range(2):  # the second from the parts kept for its key
        got = either(assess_for_cards, episode, policy)
        if isinstance(want, tuple):
            assert got == want
            continue
        assert got == untraced(want)
        assert "trace" not in got["progesterone"]
        assert card(got) == card(want)


def test_a_key_met_before_is_not_decided_again(monkeypatch: pytest.MonkeyPatch) -> None:
    episode = EPISODE
    first = assess_for_cards(episode)
    assert first["progesterone"]["decision"] == "offer"
    assert first["progesterone"]["recommendations"]

    def refused(*_: Any, **__: Any) -> Any:
        raise AssertionError("decided again")

    monkeypatch.setattr(CompiledTable, "output", refused)
    again = assess_for_cards(episode)
    assert again == first
    # each call has its own lists and dicts: changing one answer leaves the next alone
    again["progesterone"]["reasons"].append("changed")
    again["progesterone"]["citations"][0]["number"] = "changed"
    assert assess_for_cards(episode) == first


def test_the_kept_parts_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "KEYS_KEPT", 1)
    version, _ = engine.resolve_version(dt.date(2024, 3, 4), None)
    prepared = engine._parts(version, Policy(), DEFAULT_PATHWAY_POLICY).progesterone
    kept = prepared.untraced
    kept.clear()  # what the other tests kept
    no_scan = {**EPISODE, "scans": []}  # another key: no scan-confirmed intrauterine pregnancy
    for episode, decision in ((EPISODE, "offer"), (no_scan, "needs_information")):
        assert assess_for_cards(episode)["progesterone"]["decision"] == decision
        assert len(kept) == 1
