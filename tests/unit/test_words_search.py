"""A value set's words as one search (stop 46): `words_search` (Python) and `words_pattern` (the
SQL engines' RE2) answer every text as the search a word did (`word_pattern`, stop 45 and before).
"""

from __future__ import annotations

import random
import re

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.fhir.codes import load_codes, word_pattern, words_pattern, words_search

_WORDED = {name: s.words for name, s in load_codes().items() if s.words}
# pieces a text is made of: the words and their parts, the characters beside them
_PIECES = sorted(
    {w for words in _WORDED.values() for w in words}
    | {part for words in _WORDED.values() for w in words for part in w.split()}
    | {"s", "x", "1", " ", "  ", "-", "_", "\n", ".", "é", "non", "ectopicx", "2ectopic"}
)


def _word_by_word(words: tuple[str, ...], text: str) -> bool:
    return any(re.search(word_pattern(w), text) for w in words)


def _texts(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 6))) for _ in range(n)]


def test_the_word_sets_are_here() -> None:
    # the two words-only sets of stop 45 and the medicine sets' words
    assert {"locally_coded_loss", "locally_coded_not_now"} <= set(_WORDED)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(_WORDED)), st.lists(st.sampled_from(_PIECES), max_size=8))
def test_one_search_answers_as_a_search_a_word(name: str, pieces: list[str]) -> None:
    words, text = _WORDED[name], "".join(pieces)
    assert (words_search(words)(text) is not None) == _word_by_word(words, text)


@pytest.mark.parametrize("name", sorted(_WORDED))
def test_duckdb_reads_the_one_pattern_as_python(name: str) -> None:
    words = _WORDED[name]
    texts = _texts(46, 400) + [w.upper() for w in words] + list(words)
    con = duckdb.connect()
    rows = con.execute(
        "SELECT t, regexp_matches(t, ?) FROM unnest(?) AS u(t)", [words_pattern(words), texts]
    ).fetchall()
    assert len(rows) == len(texts)
    for text, found in rows:
        assert found == _word_by_word(words, text), text
    assert any(found for _, found in rows)  # the texts hold words, not only misses


def test_no_words_match_nothing() -> None:
    assert words_search(())("ectopic") is None
    with pytest.raises(ValueError, match="no words"):
        words_pattern(())
