"""The episode's cross-field checks, written once as rule expressions.

Each check is a condition over facts (the rule IR, `earlypath.rules.ir`) that is True when the
values contradict each other, the field the problem is reported on, and its message. The one
list, `CROSS_FIELD_CHECKS`, is read by both sides of the input contract:

- the pydantic model (`earlypath.model.episode.Episode`) evaluates every check with the reference
  evaluator (`earlypath.engines.evaluate`), once per episode, per scan or per hCG sample;
- the audit's row validation (`earlypath.audit.validate`) compiles every check whose facts the
  flat form carries (`flat_form_checks`) into its SQL with the batch compiler
  (`earlypath.engines.ibis_compile`); the rest read facts a flat row has no column for.

A check that is False or Unknown raises no problem: Unknown means the facts cannot tell (a
missing LMP cannot be after anything), never that the values are wrong.

The facts are named as in `earlypath.facts` (and so as the flat columns); they are declared here
because `earlypath.facts` is built on the model. In a ``scan`` check the scan facts are those of
the scan being checked, in an ``hcg`` check ``hcg_taken_on`` is the day of the sample being
checked; in an ``episode`` check the scan facts are those of the latest scan, as everywhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic_core import PydanticCustomError

from earlypath.rules import ir
from earlypath.rules.ir import Fact, IsNull, IsTrue, Not, all_of


class CheckedEpisode(Protocol):
    """What the checks read of an episode (`earlypath.model.episode.Episode`), named here so
    that this module does not import the model that imports it."""

    @property
    def latest_scan(self) -> Any: ...

    @property
    def scans(self) -> Sequence[Any]: ...

    @property
    def hcg(self) -> Sequence[Any]: ...


# An LMP further back than this cannot belong to a current pregnancy.
MAX_LMP_WEEKS_BEFORE = 45

Scope = Literal["episode", "scan", "hcg"]

ASSESSED_ON = Fact("assessed_on", "date")
LMP = Fact("lmp", "date")
VAGINAL_BLEEDING = Fact("vaginal_bleeding", "bool")
HEAVY_BLEEDING = Fact("heavy_bleeding", "bool")
MISCARRIAGE_DIAGNOSED = Fact("miscarriage_diagnosed", "bool")
MISCARRIAGE_TYPE = Fact("miscarriage_type", "str")
SECOND_OPINION = Fact("second_opinion_no_heartbeat", "bool")
SCAN_DATE = Fact("scan_date", "date")
FETAL_POLE = Fact("fetal_pole", "bool")
FETAL_HEARTBEAT = Fact("fetal_heartbeat", "bool")
CRL_MM = Fact("crl_mm", "float")
ON_PROGESTERONE = Fact("on_progesterone", "bool")
ON_OTHER_PROGESTOGEN = Fact("on_other_progestogen", "bool")
# Facts only these checks read (no rule does, and the flat form has no column for them).
HCG_TAKEN_ON = Fact("hcg_taken_on", "date")  # the day the sample being checked was taken
HCG_TIME_ZONES_MIXED = Fact("hcg_time_zones_mixed", "bool")  # some times with a zone, some not

# The facts of a scan, by the `Scan` field each is read from; in an ``episode`` check they are
# the latest scan's (None when there is none), in a ``scan`` check the checked scan's.
SCAN_FACT_FIELDS = {
    "scan_date": "date",
    "scan_route": "route",
    "scan_location": "location",
    "fetal_pole": "fetal_pole",
    "fetal_heartbeat": "fetal_heartbeat",
    "crl_mm": "crl_mm",
    "msd_mm": "msd_mm",
}


@dataclass(frozen=True, slots=True)
class CrossFieldCheck:
    """One check: ``broken`` True means the episode breaks the contract at ``field``.

    ``field`` is the contract's name within the scope: an episode field, or a field of the scan
    (``date``, ``fetal_pole``) or of the hCG sample (``taken_at``) being checked."""

    scope: Scope
    field: str
    broken: ir.Expr
    message: str

    @property
    def facts(self) -> tuple[Fact, ...]:
        return ir.facts_in(self.broken)

    @property
    def flat_field(self) -> str:
        """The field as the audit's flat form names it (a scan's ``date`` is ``scan_date``)."""
        if self.scope == "scan":
            return next(
                (f for f, name in SCAN_FACT_FIELDS.items() if name == self.field), self.field
            )
        return self.field


def _after(day: Fact) -> ir.Expr:
    return day.gt(ASSESSED_ON)


def _before_lmp(day: Fact) -> ir.Expr:
    # Only asked of a day not after assessed_on: a day after it has that problem alone.
    return all_of(day.le(ASSESSED_ON), day.lt(LMP))


# The order is the order the problems are reported in (a run of checks of one scope is applied
# to each scan, or each sample, in turn).
CROSS_FIELD_CHECKS: tuple[CrossFieldCheck, ...] = (
    CrossFieldCheck("episode", "lmp", _after(LMP), "is after assessed_on"),
    CrossFieldCheck(
        "episode",
        "lmp",
        all_of(
            LMP.le(ASSESSED_ON),
            ir.DaysBetween(LMP, ASSESSED_ON).gt(MAX_LMP_WEEKS_BEFORE * 7),
        ),
        f"is more than {MAX_LMP_WEEKS_BEFORE} weeks before assessed_on",
    ),
    CrossFieldCheck("scan", "date", _after(SCAN_DATE), "is after assessed_on"),
    CrossFieldCheck("scan", "date", _before_lmp(SCAN_DATE), "is before the lmp"),
    CrossFieldCheck(
        "scan",
        "fetal_pole",
        all_of(IsTrue(FETAL_HEARTBEAT), Not(FETAL_POLE)),
        "is false but fetal_heartbeat is true",
    ),
    CrossFieldCheck(
        "scan",
        "crl_mm",
        all_of(Not(IsNull(CRL_MM)), Not(FETAL_POLE)),
        "is given but fetal_pole is false",
    ),
    CrossFieldCheck(
        "episode", "hcg", IsTrue(HCG_TIME_ZONES_MIXED), "mixes times with and without a time zone"
    ),
    CrossFieldCheck("hcg", "taken_at", _after(HCG_TAKEN_ON), "is after assessed_on"),
    CrossFieldCheck("hcg", "taken_at", _before_lmp(HCG_TAKEN_ON), "is before the lmp"),
    CrossFieldCheck(
        "episode",
        "second_opinion_no_heartbeat",
        all_of(IsTrue(SECOND_OPINION), IsNull(SCAN_DATE)),
        "is true but no scan is recorded",
    ),
    CrossFieldCheck(
        "episode",
        "second_opinion_no_heartbeat",
        all_of(IsTrue(SECOND_OPINION), Not(IsNull(SCAN_DATE)), IsTrue(FETAL_HEARTBEAT)),
        "is true but the latest scan records a fetal heartbeat",
    ),
    CrossFieldCheck(
        "episode",
        "heavy_bleeding",
        all_of(IsTrue(HEAVY_BLEEDING), Not(VAGINAL_BLEEDING)),
        "is true but vaginal_bleeding is false",
    ),
    CrossFieldCheck(
        "episode",
        "miscarriage_type",
        all_of(Not(IsNull(MISCARRIAGE_TYPE)), Not(MISCARRIAGE_DIAGNOSED)),
        "is given but miscarriage_diagnosed is false",
    ),
    # Stop 54 (HAZ-20 C20.71; NG126 1.5.2): "not on progesterone" beside "on another
    # progestogen" was accepted, and the table then offered progesterone beside the other
    # progestogen with no review (its `on_another_progestogen` branch is taken only when
    # on_progesterone is Unknown). Refused, naming both fields: whether to offer progesterone
    # beside another progestogen is a clinician's review, so on_progesterone is then null
    # (unknown) or true. The record reading never gives the pair (it reads on_progesterone as
    # unknown beside another progestogen: tests/records/test_real_shapes.py).
    CrossFieldCheck(
        "episode",
        "on_other_progestogen",
        all_of(IsTrue(ON_OTHER_PROGESTOGEN), Not(ON_PROGESTERONE)),
        "is true but on_progesterone is false: beside another progestogen, set on_progesterone "
        "to null (unknown: needs a clinician's review) or true",
    ),
)


def flat_form_checks(
    columns: frozenset[str] | set[str], checks: tuple[CrossFieldCheck, ...] | None = None
) -> tuple[CrossFieldCheck, ...]:
    """The checks every fact of which is one of ``columns`` (the audit's flat columns), except
    those of each hCG sample (a flat row has none): those the audit can apply to a flat row.
    The others read what a flat row cannot hold (hCG, the second opinion, heavy bleeding, the
    miscarriage type), so no flat row can break them."""
    listed = CROSS_FIELD_CHECKS if checks is None else checks
    return tuple(c for c in listed if c.scope != "hcg" and all(f.name in columns for f in c.facts))


# --- the model's reading: every check evaluated on one episode ------------------------------

Compiled = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    """`CROSS_FIELD_CHECKS` compiled once for the model: the facts they read, by where the
    model finds them, and the checks in runs of one scope (each run applied to the episode, or
    to each scan or hCG sample in turn, keeps the order of the list)."""

    checks: tuple[CrossFieldCheck, ...]  # the list it was made from
    episode_fields: tuple[str, ...]  # facts that are fields of the episode
    scan_facts: tuple[tuple[str, str], ...]  # (fact, Scan field)
    reads_mixed_zones: bool
    runs: tuple[tuple[Scope, tuple[tuple[CrossFieldCheck, Compiled], ...]], ...]
    # Whether the episode breaks any check, as one generated function (`_any_broken_function`);
    # None where it could not be written (the closures then decide every episode).
    any_broken: Callable[[Any], bool] | None = None


_plan: _Plan | None = None


def _plan_for(checks: tuple[CrossFieldCheck, ...], model_fields: Container[str]) -> _Plan:
    """The plan of ``checks`` over a model with ``model_fields``, made on first use and again
    whenever the list is another (as when a test adds a check), so a check added to the list is
    applied without more code."""
    global _plan
    if _plan is not None and _plan.checks is checks:
        return _plan
    # Imported here: the engines package imports the model, which imports this module.
    from earlypath.engines.evaluate import compile_expr

    names = dict.fromkeys(fact.name for check in checks for fact in check.facts)
    for check in checks:
        for fact in check.facts:
            if not (
                fact.name in model_fields
                or fact.name in SCAN_FACT_FIELDS
                or fact.name == HCG_TIME_ZONES_MIXED.name
                or (check.scope == "hcg" and fact.name in _HCG_FACTS)
            ):
                # A TypeError, not a ValueError: pydantic would report that as bad input.
                raise TypeError(
                    f"the check of {check.field} reads {fact.name}, which the model cannot give"
                )
    runs: list[tuple[Scope, list[tuple[CrossFieldCheck, Compiled]]]] = []
    for check in checks:
        if not runs or runs[-1][0] != check.scope:
            runs.append((check.scope, []))
        runs[-1][1].append((check, compile_expr(check.broken)))
    episode_fields = tuple(n for n in names if n in model_fields and n not in SCAN_FACT_FIELDS)
    scan_facts = tuple((n, SCAN_FACT_FIELDS[n]) for n in names if n in SCAN_FACT_FIELDS)
    reads_mixed_zones = HCG_TIME_ZONES_MIXED.name in names
    try:
        any_broken = _any_broken_function(checks, episode_fields, scan_facts, reads_mixed_zones)
    except TypeError:  # a node with no Python source: the closures decide
        any_broken = None
    _plan = _Plan(
        checks,
        episode_fields,
        scan_facts,
        reads_mixed_zones,
        tuple((scope, tuple(run)) for scope, run in runs),
        any_broken,
    )
    return _plan


def _any_broken_function(
    checks: tuple[CrossFieldCheck, ...],
    episode_fields: tuple[str, ...],
    scan_facts: tuple[tuple[str, str], ...],
    reads_mixed_zones: bool,
) -> Callable[[Any], bool]:
    """One generated function of the episode: True if it breaks any of ``checks``, as the
    closures read them (`broken_checks`; the scan facts of an ``episode`` check are the latest
    scan's, those of a ``scan`` check the checked scan's, and so on), with no facts dict built
    and no problem written. Most episodes break none: one call says so, and the closures
    (which write each problem) run only for an episode that breaks one. Built from the same IR
    (`earlypath.engines.node_source`); tests hold the two to agree."""
    from earlypath.engines.node_source import SourceNames, node_source

    names = SourceNames({}, "t")
    hcg_reads = {name: names.const(read) for name, read in _HCG_FACTS.items()}
    on_episode = {name: f"e{i}" for i, name in enumerate(episode_fields)}
    on_episode |= {name: f"l{i}" for i, (name, _) in enumerate(scan_facts)}
    on_episode[HCG_TIME_ZONES_MIXED.name] = "mixed_zones"
    on_scan = on_episode | {name: f"s{i}" for i, (name, _) in enumerate(scan_facts)}
    on_hcg = on_episode | {name: f"h{i}" for i, name in enumerate(_HCG_FACTS)}
    local_of = {"episode": on_episode, "scan": on_scan, "hcg": on_hcg}

    def source(e: ir.Expr, local: dict[str, str]) -> str:
        def sub(x: ir.Expr) -> tuple[str, str]:
            if isinstance(x, ir.Fact | ir.Const):
                text = source(x, local)
                return text, text
            t = names.fresh()
            return f"({t} := {source(x, local)})", t

        if isinstance(e, ir.Fact):
            return local[e.name]
        if isinstance(e, ir.Const):
            return names.const(e.value)
        text = node_source(e, sub, names.const)
        if text is None:
            raise TypeError(f"no Python source for IR node {type(e).__name__}")
        return text

    # Fields read from the models' own dicts (where pydantic keeps them): a model's attribute
    # goes through `BaseModel.__getattr__`'s slower lookup, several times a dict's. A field
    # missing there raises, and a function that raises is not used (the closures decide).
    lines = ["    d = e.__dict__"]
    lines += [
        f"    {local} = d[{name!r}]" for name, local in on_episode.items() if name in episode_fields
    ]
    if scan_facts:
        lines.append("    latest = e.latest_scan")
        lines.append("    if latest is None:")
        lines += [f"        l{i} = None" for i in range(len(scan_facts))]
        lines.append("    else:")
        lines.append("        latest = latest.__dict__")
        lines += [f"        l{i} = latest[{field!r}]" for i, (_, field) in enumerate(scan_facts)]
    if reads_mixed_zones:
        # (no set made for an episode without samples: most have none)
        lines.append(
            "    mixed_zones = len({s.taken_at.tzinfo is not None for s in d['hcg']}) > 1"
            " if d['hcg'] else False"
        )
    by_scope: dict[str, list[str]] = {"episode": [], "scan": [], "hcg": []}
    for check in checks:
        local = local_of[check.scope]
        test = _true_source(check.broken, local, names.const)
        by_scope[check.scope].append(
            f"{source(check.broken, local)} is True" if test is None else test
        )
    lines += [f"    if {test}:\n        return True" for test in by_scope["episode"]]
    if by_scope["scan"]:
        lines.append("    for item in d['scans']:")
        lines.append("        fields = item.__dict__")
        lines += [f"        s{i} = fields[{field!r}]" for i, (_, field) in enumerate(scan_facts)]
        lines += [f"        if {test}:\n            return True" for test in by_scope["scan"]]
    if by_scope["hcg"]:
        lines.append("    for item in d['hcg']:")
        lines += [f"        h{i} = {read}(item)" for i, read in enumerate(hcg_reads.values())]
        lines += [f"        if {test}:\n            return True" for test in by_scope["hcg"]]
    lines.append("    return False")
    args = "".join(f", {k}={k}" for k in names.names)
    text = "\n".join([f"def any_broken(e{args}):", *lines])
    scope: dict[str, Any] = dict(names.names)
    exec(compile(text, "<earlypath checks any_broken>", "exec"), scope)  # noqa: S102 - our IR
    fn = scope["any_broken"]
    fn.source = text  # for tests and for reading
    return fn


# What the checks' two-valued tests read: a check breaks only when its condition is True, so
# the generated function asks "is it True?" of each (and "is it False?" of the items under a
# Not), with no Unknown carried as a value. Kleene's rules, read for True and for False:
# And is True when every item is, False when any is; Not is True when its item is False; a
# comparison is True or False only when both sides are known; IsNull and IsTrue are never
# Unknown. A node outside these (or a fact that is not a bool read as one) gives None: the
# check is then written with the three-valued source and ``is True``.


def _true_source(e: ir.Expr, local: dict[str, str], const: Callable[[Any], str]) -> str | None:
    """A Python test that is true exactly when ``e`` is True (as the closures compute it)."""
    return _two_valued(e, local, const, want=True)


def _two_valued(  # noqa: PLR0911 - one case per node
    e: ir.Expr, local: dict[str, str], const: Callable[[Any], str], *, want: bool
) -> str | None:
    if isinstance(e, ir.And):
        parts = [_two_valued(item, local, const, want=want) for item in e.items]
        if not parts or any(part is None for part in parts):
            return None
        return "(" + (" and " if want else " or ").join(parts) + ")"  # type: ignore[arg-type]
    if isinstance(e, ir.Not):
        return _two_valued(e.item, local, const, want=not want)
    if isinstance(e, ir.IsNull) and isinstance(e.item, ir.Fact):
        return f"({local[e.item.name]} is {'' if want else 'not '}None)"
    if isinstance(e, ir.IsTrue) and isinstance(e.item, ir.Fact):
        return f"({local[e.item.name]} is {'' if want else 'not '}True)"
    if isinstance(e, ir.Fact) and e.type == "bool":
        return f"({local[e.name]} is {want})"
    if isinstance(e, ir.Cmp):
        known: list[str] = []
        left = _value_source(e.left, local, const, known)
        right = _value_source(e.right, local, const, known)
        if left is None or right is None:
            return None
        test = f"{left} {e.op} {right}" if want else f"not {left} {e.op} {right}"
        return "(" + " and ".join([*dict.fromkeys(known), test]) + ")"
    return None


def _value_source(
    e: ir.Expr, local: dict[str, str], const: Callable[[Any], str], known: list[str]
) -> str | None:
    """A comparison's side as Python, the tests that it is known added to ``known``; None if
    it is not a fact, a constant other than None, or the days between two such."""
    if isinstance(e, ir.Fact):
        known.append(f"{local[e.name]} is not None")
        return local[e.name]
    if isinstance(e, ir.Const) and e.value is not None and not isinstance(e.value, bool):
        return const(e.value)
    if isinstance(e, ir.DaysBetween):
        start = _value_source(e.start, local, const, known)
        end = _value_source(e.end, local, const, known)
        return None if start is None or end is None else f"({end} - {start}).days"
    return None


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def broken_checks(
    episode: CheckedEpisode, model_fields: Container[str]
) -> list[tuple[tuple[str | int, ...], str, Any]]:
    """(where, message, value) of every check the episode breaks, in `CROSS_FIELD_CHECKS` order
    (``model_fields``: the fields the episode's model has)."""
    plan = _plan_for(CROSS_FIELD_CHECKS, model_fields)
    if plan.any_broken is not None:
        try:
            if not plan.any_broken(episode):
                return []
        except Exception:  # noqa: BLE001, S110 - the closures decide (and raise if they must)
            pass
    return broken_checks_by_closures(episode, plan)


def refuse_broken(episode: Any) -> Any:
    """The checks as the JSON-only validator runs them (`earlypath.model.json_only`), in place
    of the model's own validator: the episode as it is where it breaks no check, else a refusal
    (also where the generated function cannot tell), and the model's validator then answers
    with every problem in its own words. One call to the generated function, without
    `broken_checks`' layers (most episodes break none)."""
    plan = _plan
    if plan is None or plan.checks is not CROSS_FIELD_CHECKS:  # first use, or another list
        plan = _plan_for(CROSS_FIELD_CHECKS, type(episode).__pydantic_fields__)
    try:
        if plan.any_broken is not None and not plan.any_broken(episode):
            return episode
    except Exception:  # noqa: BLE001, S110 - refused: the model's validator decides
        pass
    raise PydanticCustomError("impossible_value", "breaks a cross-field check")


def broken_checks_by_closures(
    episode: CheckedEpisode, plan: _Plan
) -> list[tuple[tuple[str | int, ...], str, Any]]:
    """`broken_checks` by the closures alone (the reference reading, which writes each
    problem)."""
    facts = {name: getattr(episode, name) for name in plan.episode_fields}
    latest = episode.latest_scan
    for name, field in plan.scan_facts:
        facts[name] = None if latest is None else getattr(latest, field)
    if plan.reads_mixed_zones:
        facts[HCG_TIME_ZONES_MIXED.name] = (
            len({s.taken_at.tzinfo is not None for s in episode.hcg}) > 1
        )
    found: list[tuple[tuple[str | int, ...], str, Any]] = []
    for scope, run in plan.runs:
        if scope == "episode":
            for check, broken in run:
                if broken(facts) is True:
                    value = _shown(getattr(episode, check.field))
                    found.append(((check.field,), check.message, value))
            continue
        listed = "scans" if scope == "scan" else "hcg"
        items = getattr(episode, listed)
        if not items:
            continue
        kept = dict(facts)  # the episode's values of the facts the items set
        for i, item in enumerate(items):
            # In place: copying the dict for each item costs more than the checks.
            if scope == "scan":
                for name, field in plan.scan_facts:
                    facts[name] = getattr(item, field)
            else:
                for name, read in _HCG_FACTS.items():
                    facts[name] = read(item)
            for check, broken in run:
                if broken(facts) is True:
                    value = _shown(getattr(item, check.field))
                    found.append(((listed, i, check.field), check.message, value))
        facts = kept
    return found


# The facts of the hCG sample being checked, and how each is read from it.
_HCG_FACTS: dict[str, Callable[[Any], Any]] = {
    HCG_TAKEN_ON.name: lambda sample: sample.taken_at.date(),
}
