"""`compile_condition` (issue 16, stop 30): an IR expression compiled for a place where only True
counts (the decision cascade's guards and a verdict's True test) is True on exactly the rows
where `compile_expr`'s three-valued value is, on every guard and verdict of the progesterone
tables and on the forms it rewrites (IsTrue, Match, a negation pushed down), with Unknowns."""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

import ibis
import pyarrow as pa

from earlypath.dating import GESTATION_DAYS
from earlypath.engines.batch import tables_for
from earlypath.engines.ibis_compile import (
    IR_TYPES,
    _verdict_expr,
    compile_condition,
    compile_expr,
)
from earlypath.facts import ALL_FACTS
from earlypath.rules import ir

DAY = dt.date(2024, 3, 4)
LOCATION = ir.Fact("scan_location", "str")
BLEEDING = ir.Fact("vaginal_bleeding", "bool")
COUNT = ir.Fact("previous_miscarriages", "int")
IUP = ir.Match(LOCATION, ("intrauterine",), ("ectopic",))
REPORT = ir.Match(LOCATION, ("report_not_read",), ())
FORMS = [
    ir.IsTrue(IUP),
    ir.Not(IUP),
    ir.Not(ir.Not(IUP)),
    ir.Not(REPORT),
    ir.IsTrue(REPORT),
    ir.Not(ir.IsTrue(BLEEDING)),
    ir.Not(ir.And((IUP, ir.Cmp(">=", COUNT, ir.Const(1))))),
    ir.Not(ir.Or((ir.IsNull(LOCATION), REPORT, ir.Not(BLEEDING)))),
    ir.Or((ir.Not(ir.Cmp("==", COUNT, ir.Const(2))), ir.Not(ir.Cmp("!=", COUNT, ir.Const(0))))),
    ir.And(()),
    ir.Not(ir.Or(())),
    ir.Not(ir.IsNull(ir.Fact("lmp", "date"))),
]
DOMAIN: dict[str, list[Any]] = {
    "str": ["intrauterine", "ectopic", "unknown", "report_not_read", "other", None],
    "bool": [True, False, None],
    "int": [0, 1, 2, 3, None],
    "float": [0.0, 5.0, 7.0, 25.0, 84.0, 90.0, None],
    "date": [DAY, DAY - dt.timedelta(days=70), DAY - dt.timedelta(days=120), None],
}


def _rows(n: int = 3000) -> pa.Table:
    pick = random.Random(30)
    rows = [{f.name: pick.choice(DOMAIN[f.type]) for f in ALL_FACTS} for _ in range(n)]
    for row in rows:
        row["assessed_on"] = DAY
    schema = pa.schema([(f.name, ibis.dtype(IR_TYPES[f.type]).to_pyarrow()) for f in ALL_FACTS])
    return pa.Table.from_pylist(rows, schema=schema)


def _expressions() -> list[ir.Expr]:
    found: dict[ir.Expr, None] = dict.fromkeys(FORMS)
    for table in tables_for().values():
        for branch in table.branches:
            found.setdefault(branch.guard)
            for verdict in branch.verdicts:
                found.setdefault(_verdict_expr(verdict))
                for criterion in verdict.criteria:
                    found.setdefault(criterion.expr)
                    found.setdefault(ir.Not(criterion.expr))
    return list(found)


def test_a_condition_is_true_where_the_value_is() -> None:
    t = ibis.memtable(_rows())
    t = t.mutate(gestation_days=compile_expr(GESTATION_DAYS, t))
    shared = {GESTATION_DAYS: t["gestation_days"]}
    exprs = _expressions()
    assert len(exprs) > 40
    columns: dict[str, Any] = {}
    for i, e in enumerate(exprs):
        columns[f"v{i}"] = compile_expr(e, t, "bool", shared).fill_null(False)
        columns[f"c{i}"] = ibis.cases((compile_condition(e, t, shared), True), else_=False)
        columns[f"p{i}"] = ibis.cases((compile_condition(e, t), True), else_=False)  # unshared
    got = ibis.duckdb.connect().to_pyarrow(t.select(**columns)).to_pydict()
    for i, e in enumerate(exprs):
        assert got[f"c{i}"] == got[f"v{i}"], e
        assert got[f"p{i}"] == got[f"v{i}"], e
    assert sum(any(got[f"v{i}"]) for i in range(len(exprs))) > len(exprs) * 3 // 4


def test_the_cascade_tests_its_verdicts_without_a_case_or_not() -> None:
    from earlypath.engines.batch import assess_table
    from tests.audit.facts_engine import fact_table

    sql = ibis.duckdb.connect().compile(assess_table(ibis.memtable(fact_table([]))))
    head = sql.split('AS "_outcome"')[0]
    cascade = head[head.rindex("\"guideline_version\" IN ('2019-04-17')") :]
    # A verdict's True test is the IN of the location's ectopic value, not NOT (CASE ...)
    assert re.search(r'WHEN "t\d+"\."scan_location" IN \(\'ectopic\'\) OR', cascade)
    # IsTrue(ectopic seen) as the IN alone; the unread-report guard without COALESCE (CASE ...)
    assert re.search(r'WHEN "t\d+"\."scan_location" IN \(\'ectopic\'\) THEN 9 ', cascade)
    assert re.search(
        r'= FALSE\) AND "t\d+"\."scan_location" IN \(\'report_not_read\'\) THEN', cascade
    )
    assert "NOT (CASE WHEN" not in cascade.split(" IS NULL THEN ")[0]
