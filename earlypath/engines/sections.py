"""The reference engine's evaluation of the pathway sections (``earlypath.guideline.pathway``).

Each section's decision tables, values and citations are prepared once per (version, pathway
policy); the tables are evaluated by `earlypath.engines.tables` (the one reference semantics).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson

from earlypath.engines.evaluate import Compiled, Facts, compile_expr
from earlypath.engines.fragments import frozen, shown_value, text_of
from earlypath.engines.fused import KeyFunction, exact_values_function, section_key_function
from earlypath.engines.tables import CompiledTable, compile_table, reasons
from earlypath.engines.templates import KEYS_KEPT, NOT_KEPT, Markers, Template
from earlypath.guideline.pathway import NOT_APPLICABLE, PathwayPolicy, Section
from earlypath.guideline.vocabulary import OTHER_DECISIONS_KEY, SECTION_OUTPUT_KEYS
from earlypath.rules import ir
from earlypath.rules.decision import DecisionTable

__all__ = [
    "assess_section",
    "filled_text",
    "jsonable",
    "prepare",
    "reasons",
    "rendered_if_fixed",
    "rendered_text",
    "section_output",
]


def jsonable(value: Any, raw: bool = False) -> Any:
    """Dates as ISO text, tuples as lists; everything else as it is (exact type checks: hot path).
    With ``raw`` (the JSON text path), floats as `shown_value` writes them."""
    kind = type(value)
    if kind is dict:
        return {k: jsonable(v, raw) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [jsonable(v, raw) for v in value]
    if kind is dt.date or kind is dt.datetime or (raw and kind is float):
        return shown_value(value, raw)
    return value


@dataclass(frozen=True)
class PreparedSection:
    """A section's tables (as precompiled plans), compiled values, compiled advice and
    citations, for one version and pathway policy: built once, so an assessment only evaluates."""

    tables: dict[str, CompiledTable]
    values: tuple[tuple[str, Compiled], ...]
    citations: dict[tuple[str, str], dict[str, Any]]
    # The citations list for each combination of cited numbers met so far (a few per section):
    # the dicts (copied per assessment) and their JSON text.
    cited: dict[tuple[tuple[str, str], ...], tuple[list[dict[str, Any]], orjson.Fragment]]
    main: CompiledTable
    value_fns: dict[str, Compiled]
    no_values: dict[str, None]  # every value Unknown (a section that does not apply)
    # The JSON text path: the section's text for each set of kept trace texts and advice met so
    # far where the render read no value. A section's render reads only the outcomes and the
    # values (presentation, no logic), the trace texts tell the outcomes, and the advice ids the
    # advice: nothing else goes into the section.
    texts: dict[tuple[Any, ...], orjson.Fragment] = field(default_factory=dict)
    # By generated key (`key_function`): the section's kept text, or its template and the
    # tables' outcomes (`earlypath.engines.templates`), or NOT_KEPT (the reference path decides).
    by_key: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # The generated key function, built on first use (only the JSON text path uses it: the
    # audit and the CDS card pay nothing for it).
    _key: list[KeyFunction | None] = field(default_factory=list)
    # The rendered values' text of a template filled before (`_rendered_text`), by (outcomes,
    # the names of the values the render read in order, those values); and by outcomes, each
    # sequence of names a render read.
    rendered: dict[tuple[Any, ...], bytes] = field(default_factory=dict)
    reads: dict[tuple[str, ...], list[tuple[tuple[str, ...], _ExactValues | None]]] = field(
        default_factory=dict
    )
    # The values' rules (for the generated function of a sequence of reads).
    value_exprs: dict[str, ir.Expr] = field(default_factory=dict)
    # The names of the facts each value's rule reads, found when first asked (`value_facts`).
    _value_facts: dict[str, frozenset[str]] = field(default_factory=dict)

    def value_facts(self, name: str) -> frozenset[str] | None:
        """The names of the facts the value ``name`` is computed from; None if it has no rule."""
        known = self._value_facts.get(name)
        if known is None:
            expr = self.value_exprs.get(name)
            if expr is None:
                return None
            known = self._value_facts[name] = frozenset(f.name for f in ir.facts_in(expr))
        return known

    def key_function(self) -> KeyFunction | None:
        """The section's generated key function (`earlypath.engines.fused`); None where a
        verdict is not memoised (its criteria may give other values than True, False, None)."""
        if not self._key:
            tables = self.tables.values()
            memoised = all(
                v.memo is not None for t in tables for _, _, vs in t.branches for v in vs
            )
            fn = section_key_function(self.key_tables()) if memoised else None
            self._key.append(fn)
        return self._key[0]

    def key_tables(self) -> list[DecisionTable]:
        """The tables its key is made of, in the key's order: the main table first (the key's
        advice is the main table's, `advice_for`)."""
        return [self.main.table, *(t.table for t in self.tables.values() if t is not self.main)]

    def keep_text(self, key: tuple[Any, ...], out: dict[str, Any]) -> Any:
        """``out`` as JSON text, kept under ``key`` (at most _TEXTS_KEPT of them); ``out``
        itself where orjson refuses it (the assessment then takes the reference path)."""
        if len(self.texts) >= _TEXTS_KEPT:
            return out
        try:
            text = self.texts[key] = orjson.Fragment(text_of(out))
        except orjson.JSONEncodeError:
            return out
        return text

    def citations_for(self, cited: tuple[tuple[str, str], ...]) -> tuple[list, orjson.Fragment]:
        """The citations of these (table, number) keys, each number once, in this order."""
        known = self.cited.get(cited)
        if known is None:
            out: list[dict[str, Any]] = []
            numbers: set[str] = set()
            for key in cited:
                citation = self.citations.get(key)
                if citation is not None and citation["number"] not in numbers:
                    numbers.add(citation["number"])
                    out.append(citation)
            known = self.cited[cited] = (out, frozen(out))
        return known


@cache
def _prepare(section: Section, version: str, pathway: PathwayPolicy) -> PreparedSection:
    tables = section.tables(version, pathway)
    sources = section.sources(version, pathway)
    citations = {
        (name, number): {
            "guideline": r.guideline,
            "version": r.version,
            "number": r.number,
            "number_source": sources.get(number, "unverified"),
            "summary": r.summary,
            "url": r.url,
            **r.in_force(),
        }
        for name, table in tables.items()
        for number, r in table.recommendations.items()
    }
    compiled = {name: compile_table(table) for name, table in tables.items()}
    values = {n: compile_expr(e) for n, e in section.values(version, pathway).items()}
    return PreparedSection(
        compiled,
        tuple(values.items()),
        citations,
        {},
        compiled["main"],
        values,
        dict.fromkeys(values),
        value_exprs=dict(section.values(version, pathway)),
    )


def assess_section(
    section: Section,
    version: str,
    pathway: PathwayPolicy,
    facts: Facts,
    *,
    raw: bool = False,
) -> dict[str, Any] | orjson.Fragment:
    """One pathway section: the main table's decision, the other tables, values and citations.

    ``raw`` (the JSON text path of ``assess_json``): constant parts as shared `orjson.Fragment`s,
    floats as `shown_value` writes them, or the whole section's text; the data is then only for
    orjson, never handed out."""
    return section_output(section, prepare(section, version, pathway), version, facts, raw)


def prepare(section: Section, version: str, pathway: PathwayPolicy) -> PreparedSection:
    """What `section_output` needs of a section for one version and pathway policy (cached)."""
    return _prepare(section, version, pathway)


class _Values(Mapping[str, Any]):
    """A section's values for one episode, each computed when the section's render first reads
    it (a render reads only the values its outcome shows). Values are pure functions of the
    facts, so when one is computed does not change it."""

    __slots__ = ("_facts", "_fns", "_known")

    def __init__(self, fns: dict[str, Compiled], facts: Facts) -> None:
        self._fns = fns
        self._facts = facts
        self._known: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        known = self._known
        try:
            return known[name]
        except KeyError:
            value = known[name] = self._fns[name](self._facts)
            return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._fns)

    def __len__(self) -> int:
        return len(self._fns)

    @property
    def read(self) -> bool:
        """Whether any value has been read."""
        return bool(self._known)


_TEXTS_KEPT = 4096  # section texts kept per prepared section (each about 1 KB)

_PLAIN = frozenset([str, int, bool, type(None)])  # written as they are, in either path
_PLAIN_DATA = _PLAIN | {float}  # floats too, in the data path


def section_output(
    section: Section, prepared: PreparedSection, version: str, facts: Facts, raw: bool
) -> dict[str, Any] | orjson.Fragment:
    """`assess_section` with the section already prepared (see `prepare`). With ``raw`` it may
    be the section's JSON text (see `PreparedSection.texts`), found by its generated key when
    that key was met before (see `earlypath.engines.fused`), or filled into the template
    written for that key (see `earlypath.engines.templates`)."""
    key_of = prepared.key_function() if raw else None
    if key_of is None:
        return _section_output(section, prepared, version, facts, raw)
    try:
        fast_key = key_of(facts)
    except Exception:  # noqa: BLE001 - the reference path decides (and raises if it must)
        return _section_output(section, prepared, version, facts, raw)
    by_key = prepared.by_key
    known = by_key.get(fast_key)
    if known is not None:
        if type(known) is orjson.Fragment:
            return known
        if known is not NOT_KEPT:
            filled = _filled(section, prepared, version, facts, *known)
            if filled is not None:
                return filled
        return _section_output(section, prepared, version, facts, raw)
    out = _section_output(section, prepared, version, facts, raw)
    if len(by_key) >= KEYS_KEPT:  # a workload that moved on: start again, stay bounded
        by_key.clear()
    if type(out) is orjson.Fragment:
        by_key[fast_key] = out
    else:
        by_key[fast_key] = _template(section, prepared, version, facts)
    return out


# Keys a section's output has besides its rendered values (a rendered value of the same name
# would take another place in the output: such a section is not filled into a template).
_FIXED = frozenset((*SECTION_OUTPUT_KEYS, OTHER_DECISIONS_KEY))


def _template(
    section: Section, prepared: PreparedSection, version: str, facts: Facts
) -> tuple[Template, dict[str, str]] | object:
    """The section's text for this key with holes for the facts its traces show and its
    rendered values, and the tables' outcomes (what its render reads); NOT_KEPT if not."""
    key_of = prepared.key_function()
    if key_of is None:
        return NOT_KEPT
    markers = Markers(facts, key_of.shown)
    data = _section_output(section, prepared, version, facts, True, markers)
    if not isinstance(data, dict):
        return NOT_KEPT
    try:
        text = text_of(data)
        head = b'{"decision":' + text_of(data["decision"])
        if not text.startswith(head):
            return NOT_KEPT
        other = data.get("other_decisions") or {}
        outcomes = {
            name: data["decision"] if name == "main" else other[name]["decision"]
            for name in prepared.tables
        }
        return Template(text, len(head), markers), outcomes
    except (orjson.JSONEncodeError, ValueError):
        return NOT_KEPT


def _filled(
    section: Section,
    prepared: PreparedSection,
    version: str,
    facts: Facts,
    template: Template,
    outcomes: dict[str, str],
) -> orjson.Fragment | None:
    """The section's text from its template, or None (the reference path decides)."""
    text = filled_text(section, prepared, version, facts, template, outcomes)
    return None if text is None else orjson.Fragment(text)


def filled_text(
    section: Section,
    prepared: PreparedSection,
    version: str,
    facts: Facts,
    template: Template,
    outcomes: dict[str, str],
) -> bytes | None:
    """The section's JSON text from its template (kept under its key) for these facts: its
    rendered values written and its holes filled; None if not (the reference path decides)."""
    inner = rendered_text(section, prepared, version, facts, outcomes)
    return None if inner is None else template.fill(facts, inner)


def _exactly(value: Any) -> tuple[type, Any]:
    """A value as a key item that equals another only where a render cannot tell them apart:
    with its type (True == 1 == 1.0), a float by its text (0.0 == -0.0)."""
    kind = type(value)
    return (kind, repr(value)) if kind is float else (kind, value)


def _exact_key(values: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    """The values of ``names``, each `_exactly`, as one flat tuple (type, value, type, ...):
    equal exactly where every pair is (each pair at fixed places), and no tuple per value to
    make, hash and compare (`exact_values_function` gives the same tuple)."""
    out: list[Any] = []
    for name in names:
        out += _exactly(values[name])
    return tuple(out)


class _Reads(Mapping[str, Any]):
    """The values as a render reads them, each name read (in order) recorded."""

    __slots__ = ("_source", "names")

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._source = values
        self.names: list[str] = []

    def __getitem__(self, name: str) -> Any:
        value = self._source[name]
        self.names.append(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)


# The values a render read, exactly (`_exactly`), from the facts: one generated function
# (`earlypath.engines.fused.exact_values_function`) per sequence of names read.
_ExactValues = Callable[[Facts], tuple[Any, ...]]


def _exact_values(prepared: PreparedSection, names: tuple[str, ...]) -> _ExactValues | None:
    """The generated function of these values' rules, or None where one cannot be written
    (then the closures compute them)."""
    try:
        return exact_values_function([prepared.value_exprs[n] for n in names])
    except Exception:  # noqa: BLE001 - the closures stay
        return None


_RENDERED_KEPT = 4096  # rendered values' texts kept per prepared section (each under 1 KB)
_READS_KEPT = 8  # sequences of names read kept per outcomes


def rendered_text(
    section: Section,
    prepared: PreparedSection,
    version: str,
    facts: Facts,
    outcomes: dict[str, str],
    told: tuple[str, ...] | None = None,
) -> bytes | None:
    """The rendered values' JSON text without braces (empty if none), or None (the reference
    path decides). ``told``: the outcomes' values in order, if the caller keeps them.

    A render is presentation: what it gives depends only on the outcomes, the version (fixed
    for ``prepared``) and the values it reads, and which value it reads next only on those it
    has read. So its text is kept by (outcomes, the names read in order, their values): where
    this episode's values for a sequence of names met before with these outcomes are those
    values exactly, the render would read the same names and give the same text. Else the
    render runs (the reference) and its text is kept."""
    # The values, made only where the generated function cannot read them (or the render runs).
    values: Mapping[str, Any] | None = None
    applies = outcomes["main"] != NOT_APPLICABLE
    if not applies:  # nothing to compute: render reads no value
        values = prepared.no_values
    if told is None:
        told = tuple(outcomes.values())
    kept = prepared.rendered
    for names, exact in prepared.reads.get(told, ()):
        try:
            if exact is not None and applies:
                read = exact(facts)  # the generated function: every value at once
            else:
                if values is None:
                    values = _Values(prepared.value_fns, facts)
                read = _exact_key(values, names)
            text = kept.get((told, names, read))
        except Exception:  # noqa: BLE001 - a value that cannot be computed or kept: the render
            break
        if text is not None:
            return text
    if values is None:
        values = _Values(prepared.value_fns, facts)
    reads = _Reads(values)
    inner = _render_text(section, version, outcomes, reads)
    if inner is None:
        return None
    names = tuple(reads.names)
    try:
        key = (told, names, _exact_key(values, names))
        hash(key)
    except Exception:  # noqa: BLE001, S110 - not kept (an unhashable value): the text stands
        return inner
    if len(kept) >= _RENDERED_KEPT:  # a workload that moved on: start again, bounded
        kept.clear()
        prepared.reads.clear()
    sequences = prepared.reads.setdefault(told, [])
    if len(sequences) < _READS_KEPT and all(names != n for n, _ in sequences):
        sequences.append((names, _exact_values(prepared, names)))
    kept[key] = inner
    return inner


def _render_text(
    section: Section, version: str, outcomes: dict[str, str], values: Mapping[str, Any]
) -> bytes | None:
    """The render's values as JSON text without braces (empty if none); None where they cannot
    be written in a template's place (the reference path decides)."""
    rendered = section.render(outcomes, values, version)  # type: ignore[arg-type]
    for value in rendered.values():
        if type(value) not in _PLAIN:
            rendered = {
                k: v if type(v) in _PLAIN else jsonable(v, True) for k, v in rendered.items()
            }
            break
    if not rendered:
        return b""
    if not _FIXED.isdisjoint(rendered):
        return None
    try:
        return text_of(rendered)[1:-1]
    except orjson.JSONEncodeError:
        return None


def rendered_if_fixed(
    section: Section,
    prepared: PreparedSection,
    version: str,
    facts: Facts,
    outcomes: dict[str, str],
    held: frozenset[str],
) -> bytes | None:
    """The rendered values' JSON text without braces (empty if none) where it is the same for
    every episode whose key holds the facts named in ``held`` at these values and tells these
    outcomes; None where it may not be (a value it reads rests on a fact not held).

    A render reads only the outcomes and the values, and which value it reads next only on
    those it has read (see `rendered_text`); a value is a pure function of the facts its rule
    reads. So where every value this render reads rests only on held facts, two episodes with
    equal keys read the same values and get the same text: the whole assessment's template
    writes it as text, not as a hole filled per episode. (Since stop 25 most sections' renders
    read whether the scan report was read, a test of the scan's location, which the key holds:
    without this, every such section cost a rendered hole per assessment.)"""
    if outcomes["main"] == NOT_APPLICABLE:  # the render reads no value (all Unknown)
        return _render_text(section, version, outcomes, prepared.no_values)
    # The text `rendered_text` kept for these values, where it did (the section-by-section
    # path has just filled this section): it tells which names the render read, unrun.
    told = tuple(outcomes.values())
    for names, exact in prepared.reads.get(told, ()):
        try:
            read = exact(facts) if exact is not None else None
            text = None if read is None else prepared.rendered.get((told, names, read))
        except Exception:  # noqa: BLE001 - a value that cannot be computed: the render runs
            break
        if text is not None:
            return text if _rests_on(prepared, names, held) else None
    reads = _Reads(_Values(prepared.value_fns, facts))
    inner = _render_text(section, version, outcomes, reads)
    return inner if _rests_on(prepared, reads.names, held) else None


def _rests_on(prepared: PreparedSection, names: Iterable[str], held: frozenset[str]) -> bool:
    """Whether every value named is computed from facts named in ``held`` only."""
    for name in names:
        facts_read = prepared.value_facts(name)
        if facts_read is None or not facts_read <= held:
            return False
    return True


def _rendered(
    section: Section,
    prepared: PreparedSection,
    version: str,
    facts: Facts,
    outcomes: dict[str, str],
    raw: bool,
) -> tuple[dict[str, Any], Mapping[str, Any]]:
    """The section's rendered values (presentation: reads only the outcomes and the values),
    and the values (whether the render read one: `_Values.read`)."""
    values: Mapping[str, Any]
    if outcomes["main"] == NOT_APPLICABLE:  # nothing to compute: render reads no value
        values = dict(prepared.no_values)
    else:
        values = _Values(prepared.value_fns, facts)
    rendered = section.render(outcomes, values, version)  # type: ignore[arg-type]
    plain = _PLAIN if raw else _PLAIN_DATA
    for value in rendered.values():
        if type(value) not in plain:
            rendered = {k: v if type(v) in plain else jsonable(v, raw) for k, v in rendered.items()}
            break
    return rendered, values


def _section_output(
    section: Section,
    prepared: PreparedSection,
    version: str,
    facts: Facts,
    raw: bool,
    shown: Facts | None = None,
) -> dict[str, Any] | orjson.Fragment:
    """The reference reading of a section's output (`section_output` without the key).
    ``shown``: markers for the facts the traces show, and no rendered values (a template)."""
    results = {name: table.output(facts, raw, shown) for name, table in prepared.tables.items()}
    outcome, recommendations, missing, said, trace, _ = results["main"]
    advice = prepared.main.advice_for(facts, outcome)
    key: tuple[Any, ...] | None = None
    if raw and shown is None and all(r[5] for r in results.values()):
        # Every trace is a kept text: with the advice, it tells the whole section unless the
        # render reads a value (checked below, before the text is kept).
        key = (*(r[4] for r in results.values()), *(a["id"] for a in advice))
        known = prepared.texts.get(key)
        if known is not None:
            return known
    cited = [(name, n) for name, r in results.items() for n in r[1]]
    cited += [("main", a["recommendation"]) for a in advice if a["recommendation"]]
    shared, text = prepared.citations_for(tuple(cited))
    values: Mapping[str, Any] = {}
    rendered: dict[str, Any] = {}
    if shown is None:
        outcomes = {name: r[0] for name, r in results.items()}
        rendered, values = _rendered(section, prepared, version, facts, outcomes, raw)
    if raw:  # for orjson only: tuples are written as lists, nothing is copied
        out = {
            "decision": outcome,
            **rendered,
            "recommendations": recommendations,
            "citations": text,
            "reasons": said,
            "missing": missing,
            "advice": advice,
            "trace": trace,
        }
    else:
        out = {
            "decision": outcome,
            **rendered,
            "recommendations": list(recommendations),
            "citations": [dict(c) for c in shared],
            "reasons": list(said),
            "missing": list(missing),
            "advice": advice,
            "trace": trace,
        }
    if len(results) > 1:
        out["other_decisions"] = {
            name: {
                "decision": r[0],
                "recommendations": r[1] if raw else list(r[1]),
                "missing": r[2] if raw else list(r[2]),
                "trace": r[4],
            }
            for name, r in results.items()
            if name != "main"
        }
    if key is not None and not (isinstance(values, _Values) and values.read):
        return prepared.keep_text(key, out)
    return out
