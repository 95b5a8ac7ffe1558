"""The batch engine evaluates the decision cascade once per row (issue 16).

`OutcomeSlots` stores which verdict decided each row as one small integer; ``decision``,
``recommendations`` and ``missing`` are read from it. These tests hold that (1) the judging
query evaluates each branch guard once, not once per output, and (2) the two-step form gives
exactly what the one-expression form (`compile_versioned`) gives, on every mix of True, False
and Unknown criteria and every version value (known, unknown, NULL).
"""

from __future__ import annotations

import random

import ibis
import pyarrow as pa

from earlypath.engines.batch import _rule_exprs, assess_table, tables_for
from earlypath.engines.ibis_compile import compile_versioned, outcome_slots
from earlypath.guideline.versions import VERSIONS
from tests.audit.facts_engine import fact_table


def _guards_per_table() -> int:
    tables = tables_for()
    distinct: list = []
    for table in tables.values():
        if table.branches not in distinct:
            distinct.append(table.branches)
    return sum(len(branches) for branches in distinct)


def _version_groups() -> int:
    return len(outcome_slots(tables_for()).groups)


def test_the_judging_query_evaluates_each_guard_once() -> None:
    con = ibis.duckdb.connect()
    sql = con.compile(assess_table(ibis.memtable(fact_table([]))))
    # A branch guard opens its verdicts' CASE ("WHEN guard THEN CASE WHEN ..."), as a version
    # opens its branches': all of them once, in the slot's expression.
    opened = sql.count("THEN CASE WHEN")
    assert opened == _version_groups() + _guards_per_table()  # 3x as many compiled per output
    end = sql.index('AS "_outcome"')
    assert sql[sql.rindex("SELECT", 0, end) : end].count("THEN CASE WHEN") == opened


def test_slots_give_what_the_one_expression_form_gives() -> None:
    tables = tables_for()
    exprs = _rule_exprs(tables)
    names = {e: f"_rule_{i}" for i, e in enumerate(exprs)}
    versions = [v.version for v in VERSIONS] + [None, "1999-01-01"]
    pick = random.Random(16)
    n = 20_000
    columns = {
        name: pa.array([pick.choice((True, False, None)) for _ in range(n)], pa.bool_())
        for name in names.values()
    }
    columns["guideline_version"] = pa.array([pick.choice(versions) for _ in range(n)], pa.string())
    columns["i"] = pa.array(range(n), pa.int64())
    t = ibis.memtable(pa.table(columns))

    def value(e):
        return t[names[e]]

    whole = compile_versioned(tables, t["guideline_version"], value)
    slots = outcome_slots(tables)
    stored = t.mutate(_outcome=slots.slot(t["guideline_version"], value))
    two_step = slots.outputs(stored["_outcome"], lambda e: stored[names[e]])
    con = ibis.duckdb.connect()
    expected = con.to_pyarrow(
        t.mutate(d=whole.decision, r=whole.recommendations, m=whole.missing)
        .order_by("i")
        .select("d", "r", "m")
    )
    got = con.to_pyarrow(
        stored.mutate(d=two_step.decision, r=two_step.recommendations, m=two_step.missing)
        .order_by("i")
        .select("d", "r", "m")
    )
    assert got.to_pylist() == expected.to_pylist()
    # The sample reaches every outcome, so the comparison covers each slot.
    assert {row["d"] for row in got.to_pylist()} >= {"offer", "do_not_offer", "needs_information"}
