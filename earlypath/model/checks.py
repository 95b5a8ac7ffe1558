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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from earlypath.rules import ir
from earlypath.rules.ir import Fact, IsNull, IsTrue, Not, all_of

if TYPE_CHECKING:
    from earlypath.model.episode import Episode

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
# Facts only these checks read (no rule does, and the flat form has no column for them).
HCG_TAKEN_ON = Fact("hcg_taken_on", "date")  # the day the sample being checked was taken
HCG_TIME_ZONES_MIXED = Fact("hcg_time_zones_mixed", "bool")  # some times with a zone, some not

# The checks' facts that describe one scan or one hCG sample (the rest describe the episode).
SCAN_FACTS = (SCAN_DATE, FETAL_POLE, FETAL_HEARTBEAT, CRL_MM)
HCG_FACTS = (HCG_TAKEN_ON,)


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
        if self.scope == "scan" and self.field in _SCAN_COLUMN:
            return _SCAN_COLUMN[self.field]
        return self.field


_SCAN_COLUMN = {"date": "scan_date", "route": "scan_route", "location": "scan_location"}


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
)


def flat_form_checks(
    columns: frozenset[str] | set[str], checks: tuple[CrossFieldCheck, ...] | None = None
) -> tuple[CrossFieldCheck, ...]:
    """The checks every fact of which is one of ``columns`` (the audit's flat columns): those
    the audit can apply to a flat row. The others read what a flat row cannot hold (hCG, the
    second opinion, heavy bleeding, the miscarriage type), so no flat row can break them."""
    listed = CROSS_FIELD_CHECKS if checks is None else checks
    return tuple(c for c in listed if all(f.name in columns for f in c.facts))


# --- the model's reading: every check evaluated on one episode ------------------------------

Compiled = Callable[[dict[str, Any]], Any]
_Run = tuple[Scope, tuple[tuple[CrossFieldCheck, Compiled], ...]]
_plan: tuple[tuple[CrossFieldCheck, ...], tuple[_Run, ...]] | None = None


def _runs(checks: tuple[CrossFieldCheck, ...]) -> tuple[_Run, ...]:
    """The checks compiled once, in runs of one scope (kept for the list they were made from,
    so a check added to `CROSS_FIELD_CHECKS`, as the tests do, is compiled too)."""
    global _plan
    if _plan is not None and _plan[0] is checks:
        return _plan[1]
    # Imported here: the engines package imports the model, which imports this module.
    from earlypath.engines.evaluate import compile_expr

    runs: list[tuple[Scope, list[tuple[CrossFieldCheck, Compiled]]]] = []
    for check in checks:
        if not runs or runs[-1][0] != check.scope:
            runs.append((check.scope, []))
        runs[-1][1].append((check, compile_expr(check.broken)))
    plan = tuple((scope, tuple(run)) for scope, run in runs)
    _plan = (checks, plan)
    return plan


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def broken_checks(episode: Episode) -> list[tuple[tuple[str | int, ...], str, Any]]:
    """(where, message, value) of every check the episode breaks, in `CROSS_FIELD_CHECKS` order."""
    latest = episode.latest_scan
    facts: dict[str, Any] = {
        "assessed_on": episode.assessed_on,
        "lmp": episode.lmp,
        "vaginal_bleeding": episode.vaginal_bleeding,
        "heavy_bleeding": episode.heavy_bleeding,
        "miscarriage_diagnosed": episode.miscarriage_diagnosed,
        "miscarriage_type": episode.miscarriage_type,
        "second_opinion_no_heartbeat": episode.second_opinion_no_heartbeat,
        "scan_date": None if latest is None else latest.date,
        "fetal_pole": None if latest is None else latest.fetal_pole,
        "fetal_heartbeat": None if latest is None else latest.fetal_heartbeat,
        "crl_mm": None if latest is None else latest.crl_mm,
        "hcg_taken_on": None,
        "hcg_time_zones_mixed": len({s.taken_at.tzinfo is not None for s in episode.hcg}) > 1,
    }
    found: list[tuple[tuple[str | int, ...], str, Any]] = []
    for scope, run in _runs(CROSS_FIELD_CHECKS):
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
        episode_values = {name: facts[name] for name in _ITEM_FACT_NAMES[scope]}
        item_facts = _ITEM_FACTS[scope]
        for i, item in enumerate(items):
            facts.update(item_facts(item))  # in place: copying the dict costs more than the checks
            for check, broken in run:
                if broken(facts) is True:
                    value = _shown(getattr(item, check.field))
                    found.append(((listed, i, check.field), check.message, value))
        facts.update(episode_values)
    return found


def _scan_facts(scan: Any) -> dict[str, Any]:
    return {
        "scan_date": scan.date,
        "fetal_pole": scan.fetal_pole,
        "fetal_heartbeat": scan.fetal_heartbeat,
        "crl_mm": scan.crl_mm,
    }


def _hcg_facts(sample: Any) -> dict[str, Any]:
    return {"hcg_taken_on": sample.taken_at.date()}


# The facts of the scan or the hCG sample being checked (`SCAN_FACTS`, `HCG_FACTS`).
_ITEM_FACTS = {"scan": _scan_facts, "hcg": _hcg_facts}
_ITEM_FACT_NAMES = {"scan": [f.name for f in SCAN_FACTS], "hcg": [f.name for f in HCG_FACTS]}
