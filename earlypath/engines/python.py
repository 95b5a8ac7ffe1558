"""The reference engine: one episode in, a full assessment (decision, plan, reasons, trace) out.

Every other engine must agree with this one on the decision, recommendations and missing fields.

What does not depend on the episode (compiled tables, citations, the policy and guideline
descriptions) is built once per (version, policy) and cached; a caller that needs only some
sections (the CDS card and the audit need only ``progesterone``) asks for them with
``sections=`` and pays only for those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast

import orjson

from earlypath import __version__
from earlypath.dating import CRL_GESTATION_DAYS, GESTATION_DAYS, Gestation, date_reaching
from earlypath.engines.assessment_template import GESTATION, AssessmentTemplate, Hole, Piece
from earlypath.engines.fragments import frozen, text_of
from earlypath.engines.fused import (
    KeyFunction,
    assessment_key_function,
    expr_function,
    section_key_function,
)
from earlypath.engines.sections import (
    PreparedSection,
    prepare,
    rendered_if_fixed,
    rendered_text,
    section_output,
)
from earlypath.engines.tables import CompiledTable, compile_table
from earlypath.engines.templates import KEYS_KEPT, NOT_KEPT, PLAN, Markers, Template, fact_text
from earlypath.facts import episode_facts
from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY, PathwayPolicy, Section
from earlypath.guideline.pathway import sections as pathway_sections
from earlypath.guideline.progesterone import progesterone_table
from earlypath.guideline.versions import GuidelineVersion, resolve_version
from earlypath.model import Episode, parse_episode
from earlypath.plan import build_plan
from earlypath.policy import DEFAULT_POLICY, Policy

__all__ = [
    "PROGESTERONE",
    "CardsAssessment",
    "ProgesteroneDecision",
    "assess",
    "assess_for_cards",
    "assess_json",
    "cards_assessment",
    "decide",
    "gestation_of",
    "section_names",
]

PROGESTERONE = "progesterone"

# Generated functions (`earlypath.engines.fused`): the closures' values, a few times faster;
# tests/unit/test_fused.py holds the two to agree.
_gestation_days = expr_function(GESTATION_DAYS)
_crl_days = expr_function(CRL_GESTATION_DAYS)


def gestation_of(facts: dict[str, Any]) -> Gestation | None:
    return _gestation(_gestation_days(facts), _crl_days(facts), facts)


def _gestation(days: Any, crl_days: Any, facts: dict[str, Any]) -> Gestation | None:
    """The gestation of these facts, from the values of `GESTATION_DAYS` and
    `CRL_GESTATION_DAYS` (computed by `gestation_of`, or by the assessment key function)."""
    return _gestation_and_text(days, crl_days, facts)[0]


def _gestation_and_text(
    days: Any, crl_days: Any, facts: dict[str, Any]
) -> tuple[Gestation | None, bytes]:
    """`_gestation` and its JSON text (``null`` for None), found together: the full
    assessment's text path needs both, and one lookup finds them."""
    if days is None:
        return _NO_GESTATION
    if crl_days is not None:
        key: tuple[int, str, Any] = (days, "crl", facts["dating_scan_date"])
    else:
        key = (days, "lmp", None)
    known = _GESTATIONS.get(key)
    if known is None:  # a frozen dataclass is slow to make; equal ones are shared
        if len(_GESTATIONS) >= 65536:
            _GESTATIONS.clear()
        gestation = Gestation(*key)  # type: ignore[arg-type]
        known = _GESTATIONS[key] = (gestation, text_of(gestation.as_dict()))
    return known


# A gestation and its JSON text by what it is made of (days, basis, dating scan date).
_GESTATIONS: dict[tuple[int, str, Any], tuple[Gestation, bytes]] = {}
_NO_GESTATION: tuple[None, bytes] = (None, b"null")


def section_names() -> tuple[str, ...]:
    """Every section an assessment can hold, in output order (``progesterone`` first)."""
    return (PROGESTERONE, *(s.name for s in pathway_sections()))


@dataclass(frozen=True)
class _Progesterone:
    """The progesterone table compiled for one (version, policy), with its citations ready."""

    table: CompiledTable
    citations: dict[str, dict[str, Any]]
    # Each citation's JSON text, for the JSON text path (`assess_json`).
    fragments: dict[str, orjson.Fragment]
    # The JSON text path: the table's generated key function (`earlypath.engines.fused`), and
    # by key the section's template and outcome (`earlypath.engines.templates`) or NOT_KEPT.
    key_of: KeyFunction | None = None
    by_key: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # `decide`'s answer by key.
    decisions: dict[tuple[Any, ...], tuple[str, tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=dict
    )
    # The section without its trace (`assess_for_cards`) by key: what the key tells of it.
    untraced: dict[tuple[Any, ...], _Untraced] = field(default_factory=dict)
    # The plan's JSON text cut at its two dates, by (gestation days, peanut or soya allergy,
    # allergies recorded): see `_plan_text`.
    plans: dict[tuple[int, bool, bool], tuple[bytes, bytes, bytes] | None] = field(
        default_factory=dict
    )
    # The cards' key function (`_card_key_function`): ``key_of``'s key and the gestation's two
    # values in one generated call, built on first use (a one-shot `earlypath assess` needs none).
    card_key: list[Callable[[dict[str, Any]], Any]] = field(default_factory=list)


# outcome, recommendations, missing, reasons, advice, cited recommendation numbers
_Untraced = tuple[
    str,
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[dict[str, Any], ...],
    tuple[str, ...],
]


@cache
def _progesterone(version: str, policy: Policy) -> _Progesterone:
    table = progesterone_table(version, policy.stop_day)
    citations = {
        number: {
            "guideline": r.guideline,
            "version": r.version,
            "number": r.number,
            "summary": r.summary,
            "url": r.url,
            **r.in_force(),
        }
        for number, r in table.recommendations.items()
    }
    fragments = {number: frozen(c) for number, c in citations.items()}
    compiled = compile_table(table)
    memoised = all(v.memo is not None for _, _, vs in compiled.branches for v in vs)
    key_of = section_key_function([table]) if memoised else None
    return _Progesterone(compiled, citations, fragments, key_of)


@cache
def _guideline(version: GuidelineVersion) -> dict[str, Any]:
    return version.as_dict()


@cache
def _guideline_text(version: GuidelineVersion, chosen_because: str) -> orjson.Fragment:
    return frozen({**_guideline(version), "chosen_because": chosen_because})


@cache
def _described(policy: Policy | PathwayPolicy) -> dict[str, dict[str, str]]:
    return policy.describe()


@cache
def _described_text(policy: Policy | PathwayPolicy) -> orjson.Fragment:
    return frozen(_described(policy))


def _copy2(data: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A copy two levels deep: cached parts are never handed out (a caller may edit its copy)."""
    return {key: dict(value) for key, value in data.items()}


@dataclass(frozen=True)
class _Parts:
    """What an assessment needs that does not depend on the episode, for one guideline version,
    policy and pathway policy: looked up once per assessment (see `_parts`)."""

    progesterone: _Progesterone
    guideline: GuidelineVersion
    policy: dict[str, dict[str, str]]
    policy_text: orjson.Fragment
    pathway_policy: dict[str, dict[str, str]]
    pathway_policy_text: orjson.Fragment
    sections: dict[str, PreparedSection]  # by section name
    # The full assessment's text by assessment key (`_whole_json`): its template, or NOT_KEPT.
    whole: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # The generated key of every section at once, built when needed (`assessment_key`).
    _whole_key: _WholeKey = field(default_factory=lambda: _WholeKey())

    def guideline_text(self, chosen_because: str) -> orjson.Fragment:
        return _guideline_text(self.guideline, chosen_because)

    def assessment_key(self) -> Any:
        """The generated function giving every section's key at once, in output order
        (`earlypath.engines.fused.assessment_key_function`), with the gestation's two values
        (`GESTATION_DAYS`, `CRL_GESTATION_DAYS`; the rules compute them anyway): ``(key,
        days, CRL days)``. None where a section has no key function (the section-by-section
        path then decides every assessment)."""
        slot = self._whole_key
        if not slot.built:
            slot.calls += 1
            if slot.calls < WHOLE_KEY_AFTER:
                return None
            keyed = self.progesterone.key_of is not None and all(
                p.key_function() is not None for p in self.sections.values()
            )
            tables = [[self.progesterone.table.table]]
            tables += [self.sections[s.name].key_tables() for s in pathway_sections()]
            slot.fn = assessment_key_function(tables, _GESTATION_VALUES) if keyed else None
            if slot.fn is not None:
                slot.held = frozenset(name for shown in slot.fn.shown for name, _ in shown)
            slot.built = True
        return slot.fn


# What the assessment key function gives besides the key: the gestation (`_gestation`).
_GESTATION_VALUES = (GESTATION_DAYS, CRL_GESTATION_DAYS)

# Full assessments (per version and policies) taken section by section before the assessment
# key function is built: writing and compiling it takes 15-20 ms of CPU, which a one-shot
# `earlypath assess` would pay for nothing.
WHOLE_KEY_AFTER = 50


@dataclass
class _WholeKey:
    """The assessment key function of one version and policies, once built (`fn`, None where a
    section has no key function), and the full assessments asked for before that."""

    calls: int = 0
    built: bool = False
    fn: Any = None
    # The plain facts the key holds (each section's ``shown``): equal keys, equal values.
    held: frozenset[str] = frozenset()


# (version, id(policy), id(pathway policy)) -> (policy, pathway policy, parts). Keyed by
# identity: a policy's hash is computed field by field, several times the cost of a lookup.
# The entry keeps both policies alive (an id is not reused while it exists) and is checked.
_parts_by_id: dict[tuple[str, int, int], tuple[Policy, PathwayPolicy, _Parts]] = {}


@cache
def _whole_kept(
    version: str, policy: Policy, pathway: PathwayPolicy
) -> tuple[dict[tuple[Any, ...], Any], _WholeKey]:
    """The kept whole assessments and the assessment key function (built on first use) of one
    version and policies by value: shared by every `_Parts` of equal policies, so a caller that
    makes a policy per call does not build the key function again."""
    return {}, _WholeKey()


def _parts(version: GuidelineVersion, policy: Policy, pathway: PathwayPolicy) -> _Parts:
    key = (version.version, id(policy), id(pathway))
    entry = _parts_by_id.get(key)
    if entry is None or entry[0] is not policy or entry[1] is not pathway:
        if len(_parts_by_id) >= 256:  # callers that make a policy per call: stay bounded
            _parts_by_id.clear()
        parts = _Parts(
            _progesterone(version.version, policy),
            version,
            _described(policy),
            _described_text(policy),
            _described(pathway),
            _described_text(pathway),
            {s.name: prepare(s, version.version, pathway) for s in pathway_sections()},
            *_whole_kept(version.version, policy, pathway),
        )
        entry = _parts_by_id[key] = (policy, pathway, parts)
    return entry[2]


@cache
def _chosen(asked: tuple[str, ...] | None) -> tuple[bool, tuple[Section, ...]]:
    """(progesterone wanted, the pathway sections wanted in output order) for ``sections=``."""
    every = pathway_sections()
    if asked is None:
        return True, every
    known = section_names()
    unknown = [name for name in asked if name not in known]
    if unknown:
        raise ValueError(f"sections: unknown section(s) {unknown}; known: {list(known)}")
    return PROGESTERONE in asked, tuple(s for s in every if s.name in asked)


def _progesterone_section(
    episode: Episode,
    prepared: _Progesterone,
    policy: Policy,
    facts: dict[str, Any],
    gestation: Gestation | None,
    raw: bool,
    shown: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The progesterone section as data; ``shown``: markers for the facts its trace shows and
    for the plan (a template, `earlypath.engines.templates`)."""
    compiled = prepared.table
    outcome, recommendations, missing, said, trace, _ = compiled.output(facts, raw, shown)
    plan = PLAN if shown is not None else _plan(episode, policy, gestation, outcome)
    cited = list(recommendations)
    advice = compiled.advice_for(facts, outcome)
    for item in advice:
        number = item["recommendation"]
        if number and number not in cited:
            cited.append(number)
    citations: list[Any]
    if raw:
        fragments = prepared.fragments
        citations = [f for n in cited if (f := fragments.get(n)) is not None]
    else:
        known = prepared.citations
        citations = [dict(c) for n in cited if (c := known.get(n)) is not None]
    return {
        "decision": outcome,
        "recommendations": list(recommendations),
        "citations": citations,
        "reasons": list(said),
        "missing": list(missing),
        "advice": advice,
        "plan": plan,
        "trace": trace,
    }


def _untraced_parts(prepared: _Progesterone, facts: dict[str, Any]) -> _Untraced:
    """The section's parts but its trace and plan, as `_progesterone_section` finds them."""
    compiled = prepared.table
    outcome, recommendations, missing, said, _, _ = compiled.output(facts, False)
    advice = compiled.advice_for(facts, outcome)
    cited = list(recommendations)
    for item in advice:
        number = item["recommendation"]
        if number and number not in cited:
            cited.append(number)
    return (
        outcome,
        tuple(recommendations),
        tuple(missing),
        tuple(said),
        tuple(advice),
        tuple(cited),
    )


def _kept_untraced(prepared: _Progesterone, facts: dict[str, Any]) -> _Untraced | None:
    """The section's untraced parts kept for these facts' generated key (found, or made and
    kept), or None when there is no key (the caller then finds the parts the reference way)."""
    key_of = prepared.key_of
    if key_of is None:
        return None
    try:
        key = key_of(facts)
    except Exception:  # noqa: BLE001 - the reference path decides (and raises if it must)
        return None
    return _untraced_by_key(prepared, key, facts)


def _untraced_by_key(
    prepared: _Progesterone, key: tuple[Any, ...] | None, facts: dict[str, Any]
) -> _Untraced | None:
    """The section's untraced parts kept for ``key`` (found, or made and kept); None for no key."""
    if key is None:
        return None
    kept = prepared.untraced
    parts = kept.get(key)
    if parts is None:
        if len(kept) >= KEYS_KEPT:  # a workload that moved on: start again, bounded
            kept.clear()
        parts = kept[key] = _untraced_parts(prepared, facts)
    return parts


def _progesterone_untraced(
    episode: Episode,
    prepared: _Progesterone,
    policy: Policy,
    facts: dict[str, Any],
    gestation: Gestation | None,
) -> dict[str, Any]:
    """The progesterone section without its trace: kept per generated key (the branch, the
    criterion values and the advice that hold tell everything in it but the plan, which is
    built each time from the episode). A key that cannot be computed: the reference path."""
    parts = _kept_untraced(prepared, facts)
    if parts is None:
        parts = _untraced_parts(prepared, facts)
    outcome, recommendations, missing, said, advice, cited = parts
    known = prepared.citations
    return {  # new lists and dicts each call: a caller may change its copy
        "decision": outcome,
        "recommendations": list(recommendations),
        "citations": [dict(c) for n in cited if (c := known.get(n)) is not None],
        "reasons": list(said),
        "missing": list(missing),
        "advice": [dict(a) for a in advice],
        "plan": _plan(episode, policy, gestation, outcome),
    }


_PLANNED = ("offer", "continue")  # the outcomes with a plan


def _plan(
    episode: Episode, policy: Policy, gestation: Gestation | None, outcome: str
) -> dict[str, Any] | None:
    if outcome in _PLANNED and gestation is not None:
        return build_plan(
            assessed_on=episode.assessed_on,
            gestation_days=gestation.days,
            policy=policy,
            peanut_or_soya_allergy=episode.peanut_or_soya_allergy,
            allergies_recorded=bool(episode.allergies),
        )
    return None


_START_ON = orjson.Fragment(b"\x00start\x00")
_STOP_ON = orjson.Fragment(b"\x00stop\x00")


def _plan_text(
    prepared: _Progesterone,
    episode: Episode,
    policy: Policy,
    gestation: Gestation | None,
    outcome: str,
) -> bytes | None:
    """`_plan`'s JSON text (``null`` where there is no plan); None if orjson refuses it.

    Besides the policy (fixed for ``prepared``), a plan reads the gestation in days, the
    allergy reading and the assessment date, and the date only in ``start_on`` and
    ``stop_on`` (the stop date less the start is the days to it, which the gestation tells).
    So its text is kept per (days, allergy reading) cut at those two dates, and filled with
    each episode's dates; a cut text is kept only if, filled for the episode it was made
    from, it is that episode's plan text byte for byte."""
    if outcome not in _PLANNED or gestation is None:
        return b"null"
    allergy, recorded = episode.peanut_or_soya_allergy, bool(episode.allergies)
    key = (gestation.days, allergy, recorded)
    plans = prepared.plans
    if key in plans:
        cut = plans[key]
    else:
        if len(plans) >= KEYS_KEPT:  # bounded (about 2 x 4 x a few hundred days in use)
            plans.clear()
        cut = plans[key] = _plan_cut(episode, policy, gestation.days, allergy, recorded)
    if cut is None:
        try:
            return text_of(_plan(episode, policy, gestation, outcome))
        except orjson.JSONEncodeError:
            return None
    day = episode.assessed_on
    stop_on = date_reaching(day, gestation.days, policy.stop_day)
    head, middle, tail = cut
    return b"".join((head, fact_text(day) or b"", middle, fact_text(stop_on) or b"", tail))


def _plan_cut(
    episode: Episode, policy: Policy, days: int, allergy: bool, recorded: bool
) -> tuple[bytes, bytes, bytes] | None:
    """The plan's text for this episode cut at its two dates (see `_plan_text`); None if it
    cannot be cut or if, filled again, it would not be the plan's text."""
    plan = build_plan(
        assessed_on=episode.assessed_on,
        gestation_days=days,
        policy=policy,
        peanut_or_soya_allergy=allergy,
        allergies_recorded=recorded,
    )
    try:
        text = text_of(plan)
        pieces = text_of({**plan, "start_on": _START_ON, "stop_on": _STOP_ON}).split(b"\x00")
    except orjson.JSONEncodeError:
        return None
    if len(pieces) != 5 or pieces[1] != b"start" or pieces[3] != b"stop":
        return None
    cut = (pieces[0], pieces[2], pieces[4])
    stop_on = date_reaching(episode.assessed_on, days, policy.stop_day)
    filled = b"".join(
        (cut[0], fact_text(episode.assessed_on) or b"", cut[1], fact_text(stop_on) or b"", cut[2])
    )
    return cut if filled == text else None


def _progesterone_text(
    episode: Episode,
    prepared: _Progesterone,
    policy: Policy,
    facts: dict[str, Any],
    gestation: Gestation | None,
) -> dict[str, Any] | orjson.Fragment:
    """The progesterone section for the JSON text path: filled into the template written for
    its key (`earlypath.engines.fused`, `earlypath.engines.templates`) when that key was met
    before; else the reference path, which decides."""
    key_of = prepared.key_of
    if key_of is None:
        return _progesterone_section(episode, prepared, policy, facts, gestation, True)
    try:
        key = key_of(facts)
    except Exception:  # noqa: BLE001 - the reference path decides (and raises if it must)
        return _progesterone_section(episode, prepared, policy, facts, gestation, True)
    by_key = prepared.by_key
    known = by_key.get(key)
    if known is None:
        if len(by_key) >= KEYS_KEPT:  # a workload that moved on: start again, stay bounded
            by_key.clear()
        by_key[key] = known = _progesterone_template(episode, prepared, policy, facts, gestation)
    if isinstance(known, tuple):
        template, outcome = known
        plan_text = _plan_text(prepared, episode, policy, gestation, outcome)
        text = None if plan_text is None else template.fill(facts, b"", plan_text)
        if text is not None:
            return orjson.Fragment(text)
    return _progesterone_section(episode, prepared, policy, facts, gestation, True)


def _progesterone_template(
    episode: Episode,
    prepared: _Progesterone,
    policy: Policy,
    facts: dict[str, Any],
    gestation: Gestation | None,
) -> tuple[Template, str] | object:
    """The section's text for this key with holes for the facts its trace shows and the plan,
    and its outcome; NOT_KEPT if not."""
    if prepared.key_of is None:
        return NOT_KEPT
    markers = Markers(facts, prepared.key_of.shown)
    data = _progesterone_section(episode, prepared, policy, facts, gestation, True, markers)
    try:
        text = text_of(data)
        head = b'{"decision":' + text_of(data["decision"])
        if not text.startswith(head):
            return NOT_KEPT
        return Template(text, len(head), markers), data["decision"]
    except (orjson.JSONEncodeError, ValueError):
        return NOT_KEPT


def assess(
    episode: Episode | dict[str, Any],
    policy: Policy = DEFAULT_POLICY,
    pathway_policy: PathwayPolicy = DEFAULT_PATHWAY_POLICY,
    *,
    sections: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Assess one episode against the NG126 version that applies to it.

    Accepts a validated `Episode` or a mapping (validated here; `InputError` if it breaks the
    contract). Returns the assessment as JSON-ready data: the progesterone decision, then one
    section per pathway topic (referral, scans, hCG, ectopic, miscarriage, anti-D).

    ``sections``: the names of the sections to compute (see `section_names`), e.g.
    ``("progesterone",)``; the default (None) is the whole pathway. The assessment's header
    (version, guideline, policy, gestation) is always there; ``pathway_policy`` comes with any
    pathway section; sections keep the output order whatever order they are asked in. A
    section computed alone is the same as in the whole assessment.

    The whole assessment (``sections`` None) is read back from its JSON text (`assess_json`,
    kept per assessment key): the same data, each call a new copy.
    """
    if sections is None:
        text = _whole_json(episode, policy, pathway_policy)
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:  # text orjson does not read back (a lone surrogate)
            pass
    return _assessment(episode, policy, pathway_policy, sections, raw=False)


def assess_json(
    episode: Episode | dict[str, Any],
    policy: Policy = DEFAULT_POLICY,
    pathway_policy: PathwayPolicy = DEFAULT_PATHWAY_POLICY,
    *,
    sections: Iterable[str] | None = None,
) -> bytes:
    """`assess`'s answer as compact JSON text (UTF-8 bytes, no newline): byte for byte
    ``earlypath.json_text.dumps_bytes(assess(...))``, built faster (the constant parts are
    written once per version and policy, and no data is copied; the full assessment's text is
    kept per assessment key, see `_whole_json`). `InputError` as `assess`."""
    if sections is None:
        return _whole_json(episode, policy, pathway_policy)
    data = _assessment(episode, policy, pathway_policy, sections, raw=True)
    try:
        return text_of(data)
    except orjson.JSONEncodeError:  # text orjson refuses (e.g. a lone surrogate): the reference
        from earlypath.json_text import dumps_bytes

        return dumps_bytes(assess(episode, policy, pathway_policy, sections=sections))


def assess_for_cards(
    episode: Episode | dict[str, Any], policy: Policy = DEFAULT_POLICY
) -> dict[str, Any]:
    """`assess` of the progesterone section alone, as the CDS cards read it: the same
    assessment but the section's ``trace``, which no card shows (its parts kept per generated
    key, as `decide` keeps the decision). `InputError` as `assess`."""
    return _assessment(
        episode, policy, DEFAULT_PATHWAY_POLICY, (PROGESTERONE,), raw=False, untraced=True
    )


# An episode as `_read` gives it: validated, its version and why, its facts, gestation, parts.
_Read = tuple[Episode, GuidelineVersion, str, dict[str, Any], Gestation | None, _Parts]


class CardsAssessment:
    """`assess_for_cards`' answer for an episode already read, built when first asked
    (`assessment`), with ``key``: a key of every value a card reads of it, or None.

    The key names the section's parts kept for the episode's generated key (``kept``, by its
    id: whoever keeps the key keeps ``kept`` with it and checks it is the same object, so the
    id is never another's), the reason the version was chosen, and what the plan is built from
    besides the policy: the assessment day, the gestation (days and basis) and the allergies
    (whether any is recorded, and the peanut or soya reading of them). The kept parts belong
    to one (version, policy): they name those too, and with the plan's inputs, the decision,
    reasons, missing, citations, advice and plan."""

    __slots__ = ("_built", "_read", "key", "kept")

    def __init__(self, read: _Read, policy: Policy, kept: _Untraced | None):
        episode, _, chosen_because, facts, gestation, parts = read
        self._read = (read, policy)
        self._built: dict[str, Any] | None = None
        self.kept = kept  # `_kept_untraced(parts.progesterone, facts)`
        self.key: tuple[Any, ...] | None = None
        if self.kept is not None:
            fields = episode.__dict__  # (a model's attribute is a slow lookup; see `_whole_json`)
            self.key = (
                id(self.kept),
                chosen_because,
                fields["assessed_on"],
                (gestation.days, gestation.basis) if gestation is not None else None,
                tuple(fields["allergies"]),  # the plan's allergy reading is of these alone
            )

    def assessment(self) -> dict[str, Any]:
        """`assess_for_cards(episode, policy)`: the same dict each time it is asked."""
        if self._built is None:
            read, policy = self._read
            # the progesterone section alone, untraced: `assess_for_cards`
            self._built = _assessment_of(read, policy, True, (), raw=False, untraced=True)
        return self._built


def cards_assessment(
    episode: Episode | dict[str, Any], policy: Policy = DEFAULT_POLICY
) -> CardsAssessment:
    """The episode read for `assess_for_cards` (`InputError` as `assess`), its assessment built
    only when asked: a card kept for its key needs none (`earlypath.fhir.card_text`)."""
    read = _read(episode, policy, DEFAULT_PATHWAY_POLICY, with_gestation=False)
    episode, version, chosen_because, facts, _, parts = read
    kept, gestation = _kept_untraced_and_gestation(parts.progesterone, facts)
    return CardsAssessment(
        (episode, version, chosen_because, facts, gestation, parts), policy, kept
    )


def _card_key_function(prepared: _Progesterone) -> Callable[[dict[str, Any]], Any] | None:
    """The section's key and the gestation's two values, ``(key, days, CRL days)``, from one
    generated function (`assessment_key_function` of the section alone: its key is
    ``key_of``'s); None when the section has no key function."""
    if prepared.key_of is None:
        return None
    built = prepared.card_key
    if not built:  # two threads may both build it: either one is the same function
        built.append(assessment_key_function([[prepared.table.table]], _GESTATION_VALUES))
    return built[0]


def _kept_untraced_and_gestation(
    prepared: _Progesterone, facts: dict[str, Any]
) -> tuple[_Untraced | None, Gestation | None]:
    """`_kept_untraced` and `gestation_of` of these facts, by one generated call where the
    section has a key function (the gestation's nodes are the rules' own: computed once)."""
    key_of = _card_key_function(prepared)
    if key_of is not None:
        try:
            key, days, crl_days = key_of(facts)
        except Exception:  # noqa: BLE001, S110 - the reference way below decides (and raises)
            pass
        else:
            return _untraced_by_key(prepared, key, facts), _gestation(days, crl_days, facts)
    return _kept_untraced(prepared, facts), gestation_of(facts)


def _assessment(
    episode: Episode | dict[str, Any],
    policy: Policy,
    pathway_policy: PathwayPolicy,
    sections: Iterable[str] | None,
    *,
    raw: bool,
    untraced: bool = False,
) -> dict[str, Any]:
    """The assessment as data; with ``raw``, for orjson only (see `assess_section`)."""
    if isinstance(sections, str):  # a common slip: "progesterone" would read as letters
        raise ValueError(f"sections: give a list of section names, not the text {sections!r}")
    wants_progesterone, chosen = _chosen(None if sections is None else tuple(sections))
    read = _read(episode, policy, pathway_policy)
    return _assessment_of(read, policy, wants_progesterone, chosen, raw=raw, untraced=untraced)


def _read(
    episode: Episode | dict[str, Any],
    policy: Policy,
    pathway_policy: PathwayPolicy,
    *,
    with_gestation: bool = True,
) -> _Read:
    """What every assessment starts from: the validated episode (`InputError` if it is not
    valid), its guideline version and why, its facts and gestation, and the version's parts.
    ``with_gestation`` False: the gestation left None (a caller that finds it with a key)."""
    if not isinstance(episode, Episode):
        episode = parse_episode(episode)
    version, chosen_because = resolve_version(episode.assessed_on, episode.guideline_version)
    facts = episode_facts(episode)
    return (
        episode,
        version,
        chosen_because,
        facts,
        gestation_of(facts) if with_gestation else None,
        _parts(version, policy, pathway_policy),
    )


def _assessment_of(
    read: _Read,
    policy: Policy,
    wants_progesterone: bool,
    chosen: tuple[Section, ...],
    *,
    raw: bool,
    untraced: bool = False,
) -> dict[str, Any]:
    """`_assessment` of an episode as `_read` gives it: validated, with its guideline version
    and why, its facts, gestation and the version's parts."""
    episode, version, chosen_because, facts, gestation, parts = read
    assessment: dict[str, Any] = {
        "earlypath_version": __version__,
        "assessed_on": episode.assessed_on.isoformat(),
        "guideline": parts.guideline_text(chosen_because)
        if raw
        else {**_guideline(version), "chosen_because": chosen_because},
        "policy": parts.policy_text if raw else _copy2(parts.policy),
        "gestation": gestation.as_dict() if gestation else None,
    }
    if wants_progesterone:
        if untraced:
            progesterone: Any = _progesterone_untraced(
                episode, parts.progesterone, policy, facts, gestation
            )
        elif raw:
            progesterone = _progesterone_text(episode, parts.progesterone, policy, facts, gestation)
        else:
            progesterone = _progesterone_section(
                episode, parts.progesterone, policy, facts, gestation, raw
            )
        assessment[PROGESTERONE] = progesterone
    if chosen:
        assessment["pathway_policy"] = (
            parts.pathway_policy_text if raw else _copy2(parts.pathway_policy)
        )
    prepared = parts.sections
    for section in chosen:
        assessment[section.name] = section_output(
            section, prepared[section.name], version.version, facts, raw
        )
    return assessment


def _whole_json(
    episode: Episode | dict[str, Any], policy: Policy, pathway_policy: PathwayPolicy
) -> bytes:
    """The full assessment's JSON text (`assess_json` with every section). Its text is kept per
    assessment key (the reason the version was chosen, and every section's generated key):
    filled into the kept template when the key was met before, else built section by section
    (then kept, see `_whole_template`). Byte for byte the section-by-section text.

    The gestation comes with the key (the key function computes it for the rules anyway)."""
    if not isinstance(episode, Episode):
        episode = parse_episode(episode)
    fields = episode.__dict__  # (a model's attribute is a slow lookup; see `episode_facts`)
    version, chosen_because = resolve_version(fields["assessed_on"], fields["guideline_version"])
    facts = episode_facts(episode)
    parts = _parts(version, policy, pathway_policy)
    key: tuple[Any, ...] | None = None
    key_of = parts.assessment_key()
    if key_of is not None:
        try:
            found, days, crl_days = key_of(facts)
            key = (chosen_because, found)
        except Exception:  # noqa: BLE001 - the section-by-section path decides (and raises)
            key = None
        known = parts.whole.get(key) if key is not None else None
        if known is not None and known is not NOT_KEPT:
            gestation, gestation_text = _gestation_and_text(days, crl_days, facts)
            text = known.fill(episode, facts, gestation, gestation_text)
            if text is not None:
                return text
    gestation = gestation_of(facts)
    every = pathway_sections()
    read = (episode, version, chosen_because, facts, gestation, parts)
    data = _assessment_of(read, policy, True, every, raw=True)
    try:
        text = text_of(data)
    except orjson.JSONEncodeError:  # text orjson refuses (e.g. a lone surrogate): the reference
        from earlypath.json_text import dumps_bytes

        return dumps_bytes(_assessment(episode, policy, pathway_policy, None, raw=False))
    if key is not None and key not in parts.whole:
        if len(parts.whole) >= KEYS_KEPT:  # a workload that moved on: start again, bounded
            parts.whole.clear()
        parts.whole[key] = _whole_template(
            parts, policy, chosen_because, episode, facts, gestation, text
        )
    return text


def _whole_template(
    parts: _Parts,
    policy: Policy,
    chosen_because: str,
    episode: Episode,
    facts: dict[str, Any],
    gestation: Gestation | None,
    text: bytes,
) -> AssessmentTemplate | object:
    """The full assessment's template for this episode's section keys, from what each section
    kept under its key (a text, or a template); NOT_KEPT where a section kept none, or where the
    template filled for this episode is not ``text``, its section-by-section text."""
    try:  # each section's own key (the assessment key is them all, flat: see `fused`)
        keys = (
            cast(KeyFunction, parts.progesterone.key_of)(facts),
            *(
                cast(KeyFunction, parts.sections[s.name].key_function())(facts)
                for s in pathway_sections()
            ),
        )
    except Exception:  # noqa: BLE001 - the section-by-section path stays the answer
        return NOT_KEPT
    kept = parts.progesterone.by_key.get(keys[0])
    if not isinstance(kept, tuple):
        return NOT_KEPT
    held = parts._whole_key.held  # a section's render reading only these is text, not a hole
    template_of_progesterone, outcome = kept
    pieces: list[Piece] = [
        b'{"earlypath_version":' + text_of(__version__) + b',"assessed_on":',
        "assessed_on",  # a fact hole: the fact is the episode's assessment date
        b',"guideline":' + text_of(parts.guideline_text(chosen_because)),
        b',"policy":' + text_of(parts.policy_text) + b',"gestation":',
        GESTATION,
        b',"' + PROGESTERONE.encode() + b'":',
        *template_of_progesterone.pieces(None, _plan_hole(parts.progesterone, outcome, policy)),
        b',"pathway_policy":' + text_of(parts.pathway_policy_text),
    ]
    for section, key in zip(pathway_sections(), keys[1:], strict=True):
        prepared = parts.sections[section.name]
        known = prepared.by_key.get(key)
        pieces.append(b"," + text_of(section.name) + b":")
        if type(known) is orjson.Fragment:
            pieces.append(text_of(known))
        elif isinstance(known, tuple):
            template_of_section, outcomes = known
            version = parts.guideline.version
            fixed = rendered_if_fixed(section, prepared, version, facts, outcomes, held)
            rendered: Hole | bytes = (
                _rendered_hole(section, prepared, version, outcomes)
                if fixed is None
                else b"," + fixed
                if fixed
                else b""
            )
            try:
                pieces += template_of_section.pieces(rendered)
            except ValueError:
                return NOT_KEPT
        else:
            return NOT_KEPT
    pieces.append(b"}")
    template = AssessmentTemplate(pieces)
    filled = template.fill(episode, facts, gestation, _gestation_text(gestation))
    return template if filled == text else NOT_KEPT


def _gestation_text(gestation: Gestation | None) -> bytes:
    """The gestation's JSON text (as `_gestation_and_text` keeps it)."""
    if gestation is None:
        return b"null"
    return text_of(gestation.as_dict())


def _plan_hole(prepared: _Progesterone, outcome: str, policy: Policy) -> Hole | bytes:
    """The plan's text in the progesterone section, as `_progesterone_text` fills it: ``null``
    itself where the outcome has no plan."""
    if outcome not in _PLANNED:
        return b"null"

    def hole(episode: Episode, facts: dict[str, Any], gestation: Any) -> bytes | None:
        return _plan_text(prepared, episode, policy, gestation, outcome)

    return hole


def _rendered_hole(
    section: Section, prepared: PreparedSection, version: str, outcomes: dict[str, str]
) -> Hole:
    """A pathway section's rendered values in its text (a comma and their text without
    braces, or nothing), as `filled_text` fills its template."""

    told = tuple(outcomes.values())  # fixed for the template: made once

    def hole(episode: Episode, facts: dict[str, Any], gestation: Any) -> bytes | None:
        inner = rendered_text(section, prepared, version, facts, outcomes, told)
        if inner is None:
            return None
        return b"," + inner if inner else b""

    return hole


@dataclass(frozen=True, slots=True)
class ProgesteroneDecision:
    """The progesterone decision alone: what `assess` says in ``progesterone`` (decision,
    recommendations, missing), with the guideline version and gestation it rests on."""

    guideline_version: str
    gestation_days: int | None
    decision: str
    recommendations: tuple[str, ...]
    missing: tuple[str, ...]


def _decided(
    prepared: _Progesterone, facts: dict[str, Any]
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """`CompiledTable.decide` of the progesterone table, kept per generated key (the branch
    and criterion values it holds tell the decision)."""
    key_of = prepared.key_of
    if key_of is None:
        return prepared.table.decide(facts)
    try:
        key = key_of(facts)
    except Exception:  # noqa: BLE001 - the reference path decides (and raises if it must)
        return prepared.table.decide(facts)
    decisions = prepared.decisions
    known = decisions.get(key)
    if known is None:
        if len(decisions) >= KEYS_KEPT:  # a workload that moved on: start again, stay bounded
            decisions.clear()
        known = decisions[key] = prepared.table.decide(facts)
    return known


def decide(
    episode: Episode | dict[str, Any], policy: Policy = DEFAULT_POLICY
) -> ProgesteroneDecision:
    """The progesterone decision only (the fast path for an audit): the same decision,
    recommendations and missing fields as ``assess(...)["progesterone"]``, with no reasons,
    citations, plan, advice or trace built. `InputError` as `assess`."""
    if not isinstance(episode, Episode):
        episode = parse_episode(episode)
    version, _ = resolve_version(episode.assessed_on, episode.guideline_version)
    facts = episode_facts(episode)
    outcome, recommendations, missing = _decided(_progesterone(version.version, policy), facts)
    return ProgesteroneDecision(
        version.version, _gestation_days(facts), outcome, recommendations, missing
    )
