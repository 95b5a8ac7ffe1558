"""The batch engine: the progesterone decision for every row of a table of facts, in one expression.

The input table has the fact columns of `earlypath.facts` (typed as `IR_TYPES` says; NULL is
Unknown). Each row is judged against the NG126 version in force on its ``assessed_on`` (a CASE
on dates built from `earlypath.guideline.versions`), unless an optional ``guideline_version``
column names one. The decision tables are `progesterone_table(version, stop_day)`, compiled by
`earlypath.engines.ibis_compile`; the same expression runs on DuckDB and PySpark.

`assess_sections_table` judges every section of an assessment (progesterone and the pathway
sections of `earlypath.guideline.pathway`) the same way: one struct column per section with the
python engine's ``decision``, ``recommendations`` and ``missing`` (and ``other_decisions`` and
the section's computed ``values`` where it has them).
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import ibis.expr.types as ir_t

from earlypath.dating import GESTATION_DAYS
from earlypath.engines.ibis_compile import (
    compile_condition,
    compile_expr,
    compile_versioned,
    outcome_slots,
    version_case,
)
from earlypath.facts import ON_OTHER_PROGESTOGEN
from earlypath.guideline.pathway import NOT_APPLICABLE, PathwayPolicy, Section
from earlypath.guideline.pathway import sections as pathway_sections
from earlypath.guideline.progesterone import progesterone_table
from earlypath.guideline.versions import VERSIONS
from earlypath.policy import DEFAULT_POLICY, Policy
from earlypath.rules import ir
from earlypath.rules.decision import NEEDS_INFORMATION, DecisionTable

__all__ = [
    "OUTPUT_COLUMNS",
    "PROGESTERONE",
    "assess_sections_table",
    "assess_table",
    "decision_values",
    "section_names",
    "tables_for",
]

OUTPUT_COLUMNS = ("guideline_version", "gestation_days", "decision", "recommendations", "missing")


def tables_for(policy: Policy = DEFAULT_POLICY) -> dict[str, DecisionTable]:
    """Every version's progesterone table for this policy."""
    return {v.version: progesterone_table(v.version, policy.stop_day) for v in VERSIONS}


def decision_values(policy: Policy = DEFAULT_POLICY) -> tuple[str, ...]:
    """Every value the ``decision`` column can take (each table's outcomes and needs_information)."""
    values = dict.fromkeys(o for t in tables_for(policy).values() for o in t.outcomes)
    values.setdefault(NEEDS_INFORMATION)
    return tuple(values)


# Facts a flat cohort may lack, read as their default (never Unknown): see `assess_table`.
_DEFAULTED = {ON_OTHER_PROGESTOGEN.name: False}


def _rule_exprs(tables: dict[str, DecisionTable]) -> list[ir.Expr]:
    seen: dict[ir.Expr, None] = {}
    for table in tables.values():
        for branch in table.branches:
            seen.setdefault(branch.guard)
            for verdict in branch.verdicts:
                for criterion in verdict.criteria:
                    seen.setdefault(criterion.expr)
    return list(seen)


def assess_table(t: ir_t.Table, policy: Policy = DEFAULT_POLICY) -> ir_t.Table:
    """``t`` with ``guideline_version``, ``gestation_days``, ``decision``, ``recommendations``
    and ``missing`` added. Rows whose version is NULL (before NG126) get ``needs_information``:
    the audit rejects them before this point."""
    in_force = version_case(t["assessed_on"])
    if "guideline_version" in t.columns:
        version = ibis.coalesce(t["guideline_version"].cast("string"), in_force)
    else:
        version = in_force
    t = t.mutate(guideline_version=version)

    tables = tables_for(policy)
    # A flat cohort (the audit's columns) does not carry `on_other_progestogen` (stop 53): it
    # only chooses which words say why `on_progesterone` is Unknown (the same verdict, so the
    # same decision, recommendations and missing), so a table without it reads its default.
    added = [name for name in _DEFAULTED if name not in t.columns]
    if added:
        t = t.mutate(**{name: ibis.literal(_DEFAULTED[name]) for name in added})
    t = t.mutate(gestation_days=compile_expr(GESTATION_DAYS, t))

    # Each guard and criterion is compiled where the cascade (or `missing`) reads it, not made a
    # column first: a CASE evaluates a condition only on the rows it has not yet decided, where
    # a column is computed on every row, and a constant criterion folds (-25 M of the DuckDB
    # one-pass COPY's 2,100 M instructions in 200,000 rows; issue 16, round 9). The gestation
    # the criteria compare is read from its column.
    def value(e: ir.Expr) -> ir_t.BooleanValue:
        return compile_expr(e, t, "bool", {GESTATION_DAYS: t["gestation_days"]})

    # The decision cascade once, as a small integer column; the three outputs read it.
    def condition(e: ir.Expr) -> ir_t.BooleanValue:
        return compile_condition(e, t, {GESTATION_DAYS: t["gestation_days"]})

    slots = outcome_slots(tables)
    t = t.mutate(_outcome=slots.slot(t["guideline_version"], value, condition))
    out = slots.outputs(t["_outcome"], value)
    t = t.mutate(decision=out.decision, recommendations=out.recommendations, missing=out.missing)
    return t.drop("_outcome", *added)


# The pathway sections on the batch engines ---------------------------------------------------

PROGESTERONE = "progesterone"  # the core section's name, as in the python engine's assessment


def section_names() -> tuple[str, ...]:
    """Every section `assess_sections_table` can judge, in the python engine's output order."""
    return (PROGESTERONE, *(s.name for s in pathway_sections()))


def _chosen(asked: Iterable[str] | None) -> tuple[str, ...]:
    known = section_names()
    if asked is None:
        return known
    if isinstance(asked, str):  # "anti_d" would read as letters
        raise ValueError(f"sections: give a list of section names, not the text {asked!r}")
    unknown = sorted(set(asked) - set(known))
    if unknown:
        raise ValueError(f"sections: unknown section(s) {unknown}; known: {list(known)}")
    return tuple(n for n in known if n in set(asked))


def _advice_ids(
    t: ir_t.Table, tables: dict[str, DecisionTable], decision: ir_t.StringValue
) -> ir_t.ArrayValue:
    """The ids of the advice of ``tables`` (a section's main table, by version) that applies
    to each row, in its table's order (the python engine's ``advice``, by id): an advice applies
    when its expression is True and ``decision`` (that table's) is one of its outcomes.
    Versions with the same advice share one array; a row with no version gets NULL."""
    by_advice: dict[tuple[tuple[str, ir.Expr, tuple[str, ...]], ...], list[str]] = {}
    for version, table in tables.items():
        key = tuple((a.id, a.expr, a.outcomes) for a in table.advice)
        by_advice.setdefault(key, []).append(version)
    shared = {GESTATION_DAYS: t["gestation_days"]}
    arrays = []
    for advice, versions in by_advice.items():
        ids = []
        for advice_id, expr, outcomes in advice:
            holds = compile_condition(expr, t, shared)
            if outcomes:
                holds = holds & decision.isin(outcomes)
            ids.append(ibis.ifelse(holds, ibis.literal(advice_id), ibis.null("string")))
        applying = (
            ibis.array(ids).filter(lambda i: i.notnull())
            if ids
            else ibis.literal([], "array<string>")
        )
        arrays.append((t["guideline_version"].isin(versions), applying))
    return ibis.cases(*arrays)


def _versioned_value(
    by_version: dict[str, ir.Expr], version: ir_t.StringValue, t: ir_t.Table
) -> ir_t.Value:
    """One computed value per row, from the expression of the row's version (identical
    expressions share one branch; a row with no version gets NULL)."""
    groups: dict[ir.Expr, list[str]] = {}
    for name, expr in by_version.items():
        groups.setdefault(expr, []).append(name)
    compiled = [(names, compile_expr(expr, t)) for expr, names in groups.items()]
    if len(compiled) == 1:
        return ibis.ifelse(version.isnull(), ibis.null(compiled[0][1].type()), compiled[0][1])
    return ibis.cases(*((version.isin(names), value) for names, value in compiled))


def _section_struct(
    section: Section, t: ir_t.Table, names: dict[ir.Expr, str], pathway: PathwayPolicy
) -> ir_t.StructValue:
    per_version = {v.version: section.tables(v.version, pathway) for v in VERSIONS}
    table_names = dict.fromkeys(n for tables in per_version.values() for n in tables)
    version = t["guideline_version"]
    results = {}
    for table in table_names:
        by_version = {v: tables[table] for v, tables in per_version.items() if table in tables}
        compiled = compile_versioned(by_version, version, lambda e: t[names[e]])
        results[table] = {
            "decision": compiled.decision,
            "recommendations": compiled.recommendations,
            "missing": compiled.missing,
        }
    fields: dict[str, ir_t.Value] = dict(results["main"])
    # stop 45: the main table's advice, as the python engine packs it for every section (the
    # anti-D "confirm the miscarriage first", HAZ-09 C09.2); before, progesterone's only
    main = {v: tables["main"] for v, tables in per_version.items()}
    fields["advice"] = _advice_ids(t, main, results["main"]["decision"])
    others = {name: ibis.struct(r) for name, r in results.items() if name != "main"}
    if others:
        fields["other_decisions"] = ibis.struct(others)
    value_exprs: dict[str, dict[str, ir.Expr]] = {}
    for v in VERSIONS:
        for name, expr in section.values(v.version, pathway).items():
            value_exprs.setdefault(name, {})[v.version] = expr
    if value_exprs:
        # As the python engine: a section that does not apply computes no value.
        applies = results["main"]["decision"] != NOT_APPLICABLE
        values = {}
        for name, exprs in value_exprs.items():
            value = _versioned_value(exprs, version, t)
            values[name] = ibis.ifelse(applies, value, ibis.null(value.type()))
        fields["values"] = ibis.struct(values)
    return ibis.struct(fields)


def assess_sections_table(
    t: ir_t.Table,
    sections: Iterable[str] | None = None,
    policy: Policy = DEFAULT_POLICY,
    pathway: PathwayPolicy = PathwayPolicy(),
) -> ir_t.Table:
    """``t`` (fact columns, as for `assess_table`) with ``guideline_version``, ``gestation_days``
    and one struct column per section asked for (all of `section_names` if None), named as the
    python engine's assessment names it. Each struct holds that section's ``decision``,
    ``recommendations`` and ``missing`` as the python engine gives them (a row with no version in
    force gets ``needs_information``), ``advice`` (the ids of its main table's advice that
    apply, as the python engine's, by id), ``other_decisions`` (the other tables, by name) and
    ``values`` (the section's computed values, NULL where it is not applicable) where it has
    them. Raises ValueError naming ``sections`` for an unknown section."""
    chosen = _chosen(sections)
    t = assess_table(t, policy)
    packed = {
        PROGESTERONE: ibis.struct(
            {
                **{c: t[c] for c in ("decision", "recommendations", "missing")},
                "advice": _advice_ids(t, tables_for(policy), t["decision"]),
            }
        )
    }
    t = t.mutate(**{PROGESTERONE: packed[PROGESTERONE]} if PROGESTERONE in chosen else {})
    t = t.drop("decision", "recommendations", "missing")
    wanted = [s for s in pathway_sections() if s.name in chosen]
    if not wanted:
        return t
    exprs = _rule_exprs(
        {
            f"{s.name}.{v.version}.{n}": table
            for s in wanted
            for v in VERSIONS
            for n, table in s.tables(v.version, pathway).items()
        }
    )
    # Guards and criteria become columns first (ibis 12 writes ``(NOT x) IS NULL`` as
    # ``NOT (x) IS NULL``, which DuckDB reads as ``NOT (x IS NULL)``; a column reference avoids it).
    names = {e: f"_section_rule_{i}" for i, e in enumerate(exprs)}
    t = t.mutate(**{names[e]: compile_expr(e, t, "bool") for e in exprs})
    t = t.mutate(**{s.name: _section_struct(s, t, names, pathway) for s in wanted})
    return t.drop(*names.values())
