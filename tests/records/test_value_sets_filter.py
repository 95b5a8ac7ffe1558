"""The value sets a code table reads are filtered in groups of at most four (`of_sets`): DuckDB
turns an IN of five or more constants into a mark join against a list of them, and where two
specs of a statement list the same sets its common-subplan optimiser materialised that join as a
CTE of the clinical rows (stop 39, the methotrexate rows' five sets;
test_item_rows_plan.py reads the clinical statement's plan)."""

from __future__ import annotations

import ibis
import pytest

from earlypath.records.value_codes import of_sets

_SETS = [f"set{i}" for i in range(11)]


@pytest.mark.parametrize("count", [1, 4, 5, 9])
def test_the_sets_rows_are_kept_by_a_filter_of_the_scan_not_a_join(count: int) -> None:
    con = ibis.duckdb.connect()
    rows = [(name, "http://snomed.info/sct", str(i)) for i, name in enumerate(_SETS)]
    rows += [(name, "http://loinc.org", f"{i}-0") for i, name in enumerate(_SETS)]
    con.con.sql("CREATE TABLE codes (value_set VARCHAR, system VARCHAR, code VARCHAR)")
    con.con.executemany("INSERT INTO codes VALUES (?, ?, ?)", rows)
    wanted = _SETS[:count][::-1]  # any order, a name twice: the same rows
    kept = of_sets(con.table("codes"), [*wanted, wanted[0]])
    assert sorted(kept.execute().itertuples(index=False, name=None)) == sorted(
        r for r in rows if r[0] in wanted
    )
    sql = str(con.compile(kept))
    plan = "\n".join(str(r[-1]) for r in con.con.sql("EXPLAIN " + sql).fetchall())
    assert "SEQ_SCAN" in plan.upper().replace(" ", "_")  # the plan is read
    assert "MARK" not in plan.upper()
    assert "JOIN" not in plan.upper()
