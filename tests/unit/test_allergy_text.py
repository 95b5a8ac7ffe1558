"""Allergy text is normalised before peanut and soya are looked for: a fullwidth, zero-width,
soft-hyphenated, accented or oddly cased "peanut" still rules out the soya-lecithin products."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.engines.python import assess
from earlypath.model import PEANUT_OR_SOYA_WORDS
from earlypath.model.episode import mentions_peanut_or_soya, normalise_allergy_text

ELIGIBLE = json.loads(
    (Path(__file__).resolve().parents[2] / "earlypath/examples/01-eligible-offer.json").read_text()
)
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\x00", "\x07", "\x1f"]
COMBINING = ["\u0301", "\u0308", "\u0327", "\u20dd"]
UNRELATED = ["penicillin", "latex", "codeine", "shellfish", "nuts (tree)"]


@st.composite
def disguised(draw: st.DrawFn, word: str) -> str:
    """``word`` written as a record might hold it: each letter maybe fullwidth and in either
    case, with invisible characters or combining marks after it."""
    out = []
    for char in word:
        char = draw(st.sampled_from([char.lower(), char.upper()]))
        if draw(st.booleans()):
            char = chr(ord(char) + 0xFEE0)  # the fullwidth form of an ASCII letter
        out.append(char)
        out += draw(st.lists(st.sampled_from(INVISIBLE + COMBINING), max_size=2))
    return "".join(out)


def product_for(allergies: list[str]) -> str:
    plan = assess({**ELIGIBLE, "allergies": allergies})["progesterone"]["plan"]
    return plan["product"]["key"]


def test_the_reported_variants_choose_the_soya_free_product() -> None:
    plain = product_for(["peanut"])
    assert plain == "cyclogest" and product_for(["penicillin"]) == "utrogestan"
    for text in ("Ｐｅａｎｕｔ", "pea\u200bnut", "pea\u00adnut", "SO\u200dYA", "pe\u0301anut"):
        assert product_for([text]) == plain, repr(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PEANUT_OR_SOYA_WORDS).flatmap(disguised), st.sampled_from(["", "allergy: "]))
def test_any_disguise_of_peanut_or_soya_is_recognised(text: str, prefix: str) -> None:
    assert mentions_peanut_or_soya(["penicillin", prefix + text])
    assert product_for([prefix + text]) == product_for(["peanut"])


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(UNRELATED).flatmap(disguised))
def test_disguised_unrelated_allergies_stay_unrelated(text: str) -> None:
    assert not mentions_peanut_or_soya([text])
    assert product_for([text]) == product_for(["penicillin"])


@given(st.text(max_size=50))
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_allergy_text(text)
    assert normalise_allergy_text(once) == once
