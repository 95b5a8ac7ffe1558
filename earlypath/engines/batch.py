"""The batch engine: the progesterone decision for every row of a table of facts, in one expression.

The input table has the fact columns of `earlypath.facts` (typed as `IR_TYPES` says; NULL is
Unknown). Each row is judged against the NG126 version in force on its ``assessed_on`` (a CASE
on dates built from `earlypath.guideline.versions`), unless an optional ``guideline_version``
column names one. The decision tables are `progesterone_table(version, stop_day)`, compiled by
`earlypath.engines.ibis_compile`; the same expression runs on DuckDB and PySpark.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir_t

from earlypath.dating import GESTATION_DAYS
from earlypath.engines.ibis_compile import compile_expr, outcome_slots, version_case
from earlypath.guideline.progesterone import progesterone_table
from earlypath.guideline.versions import VERSIONS
from earlypath.policy import DEFAULT_POLICY, Policy
from earlypath.rules import ir
from earlypath.rules.decision import NEEDS_INFORMATION, DecisionTable

__all__ = ["OUTPUT_COLUMNS", "assess_table", "decision_values", "tables_for"]

OUTPUT_COLUMNS = ("guideline_version", "gestation_days", "decision", "recommendations", "missing")


def tables_for(policy: Policy = DEFAULT_POLICY) -> dict[str, DecisionTable]:
    """Every version's progesterone table for this policy."""
    return {v.version: progesterone_table(v.version, policy.stop_day) for v in VERSIONS}


def decision_values(policy: Policy = DEFAULT_POLICY) -> tuple[str, ...]:
    """Every value the ``decision`` column can take (each table's outcomes and needs_information)."""
    values = dict.fromkeys(o for t in tables_for(policy).values() for o in t.outcomes)
    values.setdefault(NEEDS_INFORMATION)
    return tuple(values)


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
    exprs = _rule_exprs(tables)
    names = {e: f"_rule_{i}" for i, e in enumerate(exprs)}
    t = t.mutate(
        gestation_days=compile_expr(GESTATION_DAYS, t),
        **{names[e]: compile_expr(e, t, "bool") for e in exprs},
    )
    # The decision cascade once, as a small integer column; the three outputs read it.
    slots = outcome_slots(tables)
    t = t.mutate(_outcome=slots.slot(t["guideline_version"], lambda e: t[names[e]]))
    out = slots.outputs(t["_outcome"], lambda e: t[names[e]])
    t = t.mutate(decision=out.decision, recommendations=out.recommendations, missing=out.missing)
    t = t.drop("_outcome")
    return t.drop(*names.values())
