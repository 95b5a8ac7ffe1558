"""Matching FHIR concepts against the value sets (`earlypath.fhir.terminology`).

`CodeSet.matches` answers "does this CodeableConcept carry one of these codes?"; the service's
mapping and the audit's SQL read the same sets through `code_set(name)` / `load_codes()`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from earlypath.fhir.terminology import load_value_sets, site_value_sets_folder

# A listed word's parts are joined in the text by any run of separators (`_SEPARATORS`): "non
# viable pregnancy" is also "non-viable pregnancy", "non - viable pregnancy", "Non viable" with an
# en dash, "NON_VIABLE" (a local code), "non/viable", a line break. Before stop 52 a part was
# joined by one space only (HAZ-20 C20.59); stop 52 added the ASCII hyphen; stop 53 (HAZ-20
# C20.61) the rest: a Condition coded locally as "Non-viable pregnancy" written with an en dash
# (word processors turn " - " into one) was read as no loss and she was offered progesterone on
# an earlier scan.
#
# Why these, and not a normalisation of the text (NFKC) at the reading's entry: NFKC maps the
# no-break spaces to a space but leaves every dash, the minus sign, U+2010, the slash and the
# underscore as they are, and DuckDB and Spark have no NFKC of their own; one character class in
# the one pattern every engine reads says it once. The characters are written as themselves (no
# escape): Python's re, RE2 (DuckDB) and Java (Spark) each read a literal character in a class
# as that character, where their escapes for one differ (\u, \x{...}).
#
# Which way a wider join errs, by the word lists it serves (the sets with words of two or more
# parts; no set of a finding, intrauterine pregnancy, heartbeat or negation has words):
# - `locally_coded_loss`, `obstetric_imaging`: more matches read a loss, or a pregnancy scan not
#   read; both hold an offer back (the safe side).
# - `imaging_not_obstetric` ("non obstetric", "not pregnant", "urinary tract"): more matches read
#   a study as of another organ, so it is not held back (the unsafe side). A slash there could
#   be "or" ("not/pregnant" as two boxes), but a RIS's "Pregnant: yes/no" puts the slash between
#   the answers, never inside "not pregnant", and the obstetric code (`scan_report`) still wins
#   over any word; accepted, with that named.
# - `vaginal_route` ("per vaginam"): the route only (the product, never an offer).
# Punctuation that ends a phrase (comma, full stop, semicolon, colon, brackets) stays a break:
# "not pregnant" is never read in "test: not. pregnant: yes".
_SEPARATORS = (
    "-"  # first in the class: a hyphen there is itself
    " \t\n\r\x0b\x0c"  # space, tab, line breaks (a report's conclusion), vertical tab, form feed
    "\u00a0\u2007\u202f"  # no-break spaces
    "\u2028\u2029"  # Unicode line and paragraph separators
    "\u2010\u2011\u2012\u2013\u2014\u2015"  # hyphen, no-break hyphen, figure dash, en, em dash, bar
    "\u2212\ufe58\ufe63\uff0d"  # minus sign; small em dash, small and full-width hyphen-minus
    "/_"  # "non/viable"; a local code's "NON_VIABLE"
)
_JOIN = f"[{_SEPARATORS}]+"
_WORD_PARTS = re.compile(r"[a-z0-9]+(?:[ -]+[a-z0-9]+)*")


def _joined(word: str) -> str:
    """``word`` as a regular expression: its parts, each separator any run of `_SEPARATORS`;
    checked first."""
    if not _WORD_PARTS.fullmatch(word):
        raise ValueError(
            f"code-set word {word!r}: only lower-case letters, digits, spaces and hyphens"
        )
    return _JOIN.join(re.split(r"[ -]+", word))


@cache
def word_pattern(word: str) -> str:
    """A regular expression for ``word`` standing on its own in lower-case text: no letter or
    digit may touch it (progesterone is not medroxyprogesterone, pv is not in "pvc"); its parts
    joined by any run of separators (`_JOIN`). Written so that DuckDB's RE2 reads it as Python's re
    does (the audit's SQL uses it too)."""
    return f"(^|[^a-z0-9]){_joined(word)}([^a-z0-9]|$)"


_NO_WORDS = re.compile(r"(?!)")  # matches nothing


def words_pattern(words: tuple[str, ...]) -> str:
    """One regular expression for "one of ``words`` stands on its own", for the SQL engines (RE2,
    Java): `word_pattern` with the words as one alternation, which matches a text exactly when
    one word's pattern does (the text is read once, not once a word; stop 46)."""
    if not words:
        raise ValueError("words_pattern: no words (an empty alternation matches every text)")
    distinct = sorted(set(words))
    if len(distinct) == 1:  # one word: its own pattern, the SQL as it was
        return word_pattern(distinct[0])
    return f"(^|[^a-z0-9])({_alternation(words)})([^a-z0-9]|$)"


def _alternation(words: tuple[str, ...]) -> str:
    """The words as one alternation (`_joined`, each checked), in a fixed order."""
    return "|".join(sorted({_joined(word) for word in words}))


@cache
def words_search(words: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """`words_pattern` compiled for Python, its edges as lookarounds (the same answers: no letter
    or digit before, none after; `$` before a final newline is beside a non-letter anyway). One
    search of the text in place of a search a word: an Observation the reading does not read is
    tested by its words (stop 45), and 24 searches a text cost some 100,000 instructions where
    this costs a few thousand (stop 46, docs/speed-cds.md)."""
    if not words:
        return _NO_WORDS.search  # an empty alternation would match everywhere
    return re.compile(f"(?<![a-z0-9])(?:{_alternation(words)})(?![a-z0-9])").search


@dataclass(frozen=True)
class CodeSet:
    """A named set of (system, code) pairs, optionally with words matched in text/display."""

    name: str
    codes: frozenset[tuple[str, str]]
    words: tuple[str, ...] = ()
    at_least: dict[tuple[str, str], int] = field(default_factory=dict)

    def code_of(self, concept: Any) -> tuple[str, str] | None:
        """The first (system, code) of a CodeableConcept (dict or model) that is in the set."""
        for key in _pairs(concept):
            if key in self.codes:
                return key
        return None

    def matches(self, concept: Any) -> bool:
        if self.code_of(concept) is not None:
            return True
        if not self.words:
            return False
        return words_search(self.words)(_texts(concept)) is not None


def _get(obj: Any, name: str) -> Any:
    """A field of a dict or of a fhir.resources model (read directly: no serialising)."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _codings(concept: Any) -> list[Any]:
    if concept is None:
        return []
    codings = _get(concept, "coding")
    if codings is not None:
        return [c for c in codings if c is not None]
    if _get(concept, "code") is not None and _get(concept, "system") is not None:
        return [concept]  # a bare Coding
    return []


def _pairs(concept: Any) -> list[tuple[str, str]]:
    return [(str(_get(c, "system") or ""), str(_get(c, "code") or "")) for c in _codings(concept)]


def _texts(concept: Any) -> str:
    if concept is None:
        return ""
    parts = [str(_get(concept, "text") or "")]
    parts += [str(_get(c, "display") or "") for c in _codings(concept)]
    return " ".join(parts).lower()


@cache
def reading_config() -> dict[str, Any]:
    """The parsed ``reading.json``: statuses and units the reader accepts (not codes)."""
    text = (resources.files("earlypath.fhir") / "reading.json").read_text(encoding="utf-8")
    return json.loads(text)


def load_codes() -> dict[str, CodeSet]:
    """Every value set by name (`earlypath.fhir.terminology`), as a `CodeSet` to match with.

    With the site's codes of ``$EARLYPATH_VALUESETS`` as it is now (read once per folder).
    """
    return _codes_for(site_value_sets_folder())


@cache
def _codes_for(site_folder: str | None) -> dict[str, CodeSet]:
    out: dict[str, CodeSet] = {}
    aliases = code_system_aliases()
    dotless = status_list("codes_also_without_dot")
    for name, value_set in load_value_sets(site_folder).items():
        pairs: set[tuple[str, str]] = set()
        at_least: dict[tuple[str, str], int] = {}
        for c in value_set.codes:
            # a code under another name of its system (an OID) is the same code, and an ICD-10
            # code written without its dot ("O001" for "O00.1") too
            forms = {c.code, c.code.replace(".", "")} if c.system in dotless else {c.code}
            for system in (c.system, *aliases.get(c.system, ())):
                for code in forms:
                    pairs.add((system, code))
                    if c.at_least is not None:
                        at_least[(system, code)] = c.at_least
        out[name] = CodeSet(name, frozenset(pairs), value_set.words, at_least)
    return out


def code_set(name: str) -> CodeSet:
    return load_codes()[name]


def coding(name: str, index: int = 0) -> dict[str, str]:
    """The ``index``-th code of a value set as a FHIR Coding (for synthetic records)."""
    item = load_value_sets()[name].codes[index]
    return {"system": item.system, "code": item.code, "display": item.display}


SYSTEMS = {
    "snomed": "http://snomed.info/sct",
    "loinc": "http://loinc.org",
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "ucum": "http://unitsofmeasure.org",
    "dmd": "https://dmd.nhs.uk",
    "icd10": "http://hl7.org/fhir/sid/icd-10",
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
}


def system_uri(short: str) -> str:
    return SYSTEMS[short]


def status_list(name: str) -> frozenset[str]:
    return frozenset(reading_config()[name])


def code_system_aliases() -> dict[str, tuple[str, ...]]:
    """Other names of a code system a record may use (its OID), by the system's URI."""
    return {k: tuple(v) for k, v in reading_config()["code_system_aliases"].items()}


def unit_factors() -> dict[str, float]:
    return dict(reading_config()["crown_rump_length_units_to_mm"])
