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
from earlypath.records.json_values import Matcher, sets_of

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


_CODES = load_codes()
_BY_KEY: dict[tuple[str, str], frozenset[str]] = {}
for _name, _set in _CODES.items():
    for _key in _set.codes:
        _BY_KEY[_key] = _BY_KEY.get(_key, frozenset()) | {_name}
# a code of each worded set that has codes, and one of no set
_A_CODE = {name: sorted(s.codes)[0] for name, s in _CODES.items() if s.words and s.codes}


def _concepts(name: str) -> list[object]:
    words = _WORDED[name]
    listed = [{"system": s, "code": c} for s, c in _A_CODE.values()]
    coded = [*listed[:2], {"system": "http://loinc.org", "code": "29463-7", "display": "Weight"}]
    return [
        None,
        "ectopic",
        {},
        {"text": words[0]},
        {"text": f"not {words[-1]}x"},
        {"coding": "not a list", "text": words[0]},
        {"coding": [None, 3, {"display": words[0].upper()}]},
        {"coding": coded, "text": "seen today"},
        {"coding": [{**c, "display": words[0]} for c in coded]},
        *({"coding": [c]} for c in listed),
    ]


@pytest.mark.parametrize("name", sorted(_WORDED))
def test_codes_then_words_answer_as_matches(name: str) -> None:
    # the generated reading asks a worded set's codes (`sets_of`), then its words alone
    # (`words_name_it`; stop 47): together, what `Matcher.matches` answers
    matcher = Matcher(_CODES[name])
    for concept in _concepts(name):
        codes = type(concept) is dict and name in sets_of(concept, _BY_KEY)
        assert (codes or matcher.words_name_it(concept)) == matcher.matches(concept), concept


# Stop 52 (HAZ-20 C20.59): a listed word's parts are joined in the text by spaces or hyphens,
# alike in Python and DuckDB; before, "non-viable pregnancy" was no loss and "non-obstetric"
# only "obstetric". Each row: set, text (lower-cased as read), whether the set's words name it.
SEPARATED = [
    ("locally_coded_loss", "non-viable pregnancy", True),
    ("locally_coded_loss", "non - viable intrauterine pregnancy", True),
    ("locally_coded_loss", "viable intrauterine pregnancy", False),
    ("locally_coded_loss", "ectopic-pregnancy excluded", True),
    ("imaging_not_obstetric", "us pelvis (non-obstetric)", True),
    ("imaging_not_obstetric", "pelvis, non-pregnant", True),
    ("imaging_not_obstetric", "urinary-tract", True),
    ("imaging_not_obstetric", "nonx-obstetric", False),
    ("imaging_not_obstetric", "us obstetric", False),
    # stop 53 (HAZ-20 C20.61): every separator real text writes between a word's parts (the base
    # read none of them); punctuation that ends a phrase stays a break
    ("locally_coded_loss", "non\u2013viable pregnancy", True),  # en dash
    ("locally_coded_loss", "non \u2014 viable", True),  # em dash
    ("locally_coded_loss", "non\u2010viable", True),  # hyphen
    ("locally_coded_loss", "non\u2011viable", True),  # no-break hyphen
    ("locally_coded_loss", "non\u2212viable", True),  # minus sign
    ("locally_coded_loss", "non/viable", True),
    ("locally_coded_loss", "epr_code: non_viable_pregnancy", True),
    ("locally_coded_loss", "fetal\u00a0demise", True),  # no-break space
    ("locally_coded_loss", "conclusion: missed\tabortion", True),
    ("locally_coded_loss", "conclusion: fetal\r\ndemise", True),
    ("locally_coded_loss", "pregnancy of\nunknown location", True),
    ("locally_coded_loss", "non, viable", False),
    ("locally_coded_loss", "non. viable", False),
    ("locally_coded_loss", "non; viable", False),
    ("locally_coded_loss", "non: viable", False),
    ("locally_coded_loss", "non(viable)", False),
    ("locally_coded_loss", "non\u00e9viable", False),  # a letter, not a separator
    ("obstetric_imaging", "us dating\u00a0scan", True),
    ("obstetric_imaging", "crown\u2013rump length", True),
    ("imaging_not_obstetric", "pelvis non\u2013obstetric", True),
    ("imaging_not_obstetric", "hcg not; pregnant 7/40", False),
    ("vaginal_route", "per\u00a0vaginam", True),
    # stop 54 (HAZ-20 C20.73): "intra uterine" in two words, its parts apart as real text
    # writes them (the base read none: only "intrauterine" was listed)
    ("obstetric_imaging", "us intra uterine", True),
    ("obstetric_imaging", "us intra-uterine", True),
    ("obstetric_imaging", "us intra\u2013uterine", True),  # en dash
    ("obstetric_imaging", "us intra\u00a0uterine", True),  # no-break space
    ("obstetric_imaging", "us intra. uterine", False),
    ("obstetric_imaging", "us extra uterine", False),
]


@pytest.mark.parametrize(("name", "text", "named"), SEPARATED)
def test_a_hyphen_joins_a_words_parts_on_every_engine(name: str, text: str, named: bool) -> None:
    words = _WORDED[name]
    assert (words_search(words)(text) is not None) is named
    assert _word_by_word(words, text) is named
    assert Matcher(_CODES[name]).words_name_it({"text": text.upper()}) is named
    (found,) = (
        duckdb.connect()
        .execute("SELECT regexp_matches(?, ?)", [text, words_pattern(words)])
        .fetchone()
    )
    assert found is named
    # stop 53: and upper-case, lowered by DuckDB (the audit's SQL lowers as Python does)
    (upper,) = (
        duckdb.connect()
        .execute("SELECT regexp_matches(lower(?), ?)", [text.upper(), words_pattern(words)])
        .fetchone()
    )
    assert upper is named


def test_a_listed_word_may_hold_a_hyphen() -> None:
    # a site's word written with a hyphen reads as the word written with a space
    for text in ("post-natal", "post natal", "us post -natal check"):
        assert re.search(word_pattern("post-natal"), text), text
        assert words_search(("post-natal", "renal"))(text), text
    assert not re.search(word_pattern("post-natal"), "postnatal")
    with pytest.raises(ValueError, match="hyphens"):
        word_pattern("-natal")
