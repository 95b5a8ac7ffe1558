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
# Letters from other scripts that look like the Latin ones, small and capital.
LOOKALIKES = {
    "a": "аαᴀ", "e": "еᴇ", "o": "оοᴏ", "p": "рρᴘ", "c": "сᴄ", "y": "уʏ", "s": "ѕꜱ",
    "i": "іιɪ", "j": "јᴊ", "u": "υᴜ", "n": "ɴ", "t": "ᴛ", "r": "ʀ", "d": "ԁᴅ", "g": "ɡɢ",
    "h": "һʜ", "l": "ӏʟ", "k": "κᴋ",
    "A": "АΑ", "E": "ЕΕ", "O": "ОΟ", "P": "РΡ", "C": "С", "S": "Ѕ", "I": "ІΙ", "N": "Ν",
    "T": "ТΤ", "H": "НΗ", "K": "КΚ", "Y": "Υ", "X": "ХΧ", "J": "Ј",
}  # fmt: skip
SEPARATORS = [" ", "-", " - ", "_", ".", "/"]


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


def test_lookalike_letters_and_split_words_choose_the_soya_free_product() -> None:
    # Found by the w15 probe: each of these chose Utrogestan (soya lecithin).
    for text in ("реаnut", "pеanut", "РЕАNUТ", "ΡΕΑΝUΤ", "ᴘᴇᴀɴᴜᴛ", "ЅОУА", "pea nut", "pea-nut",
                 "Ground nut", "ara chis oil", "soja"):  # fmt: skip
        assert product_for([text]) == "cyclogest", repr(text)
    # Short words are not looked for across separators: "also yams" is not soya.
    assert product_for(["also yams", "penicillin"]) == "utrogestan"


@st.composite
def lookalike(draw: st.DrawFn, word: str) -> str:
    """``word`` with letters in either case, maybe swapped for lookalikes from other scripts or
    fullwidth, invisible characters after them and, in the longer words, separators inside."""
    out = []
    for i, char in enumerate(word):
        if i and len(word) >= 6 and draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(SEPARATORS)))
        char = draw(st.sampled_from([char.lower(), char.upper()]))
        if char in LOOKALIKES and draw(st.booleans()):
            char = draw(st.sampled_from(LOOKALIKES[char]))
        elif draw(st.booleans()):
            char = chr(ord(char) + 0xFEE0)  # the fullwidth form of an ASCII letter
        out.append(char)
        out += draw(st.lists(st.sampled_from(INVISIBLE), max_size=1))
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PEANUT_OR_SOYA_WORDS).flatmap(lookalike), st.sampled_from(["", "allergy: "]))
def test_any_lookalike_or_split_peanut_or_soya_is_recognised(text: str, prefix: str) -> None:
    assert mentions_peanut_or_soya(["penicillin", prefix + text]), repr(text)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(UNRELATED).flatmap(lookalike))
def test_lookalike_unrelated_allergies_stay_unrelated(text: str) -> None:
    assert not mentions_peanut_or_soya([text]), repr(text)


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
