"""The empty cells read as false, counted over every input row in a short statement of their own
(`validate.rows_and_defaulted_cells`, issue 16 round 12), not over the checks' view: the count is
the checks' own ``defaulted_false_cells`` summed (the binds: test_duckdb_binds.py)."""

from __future__ import annotations

from typing import Any

import ibis
import pytest

from earlypath.audit.validate import check_and_type, rows_and_defaulted_cells

# Cells as a CSV gives them (text) and as a Parquet file does (typed): empty, words in any case
# or padded, "unknown" (Unknown for on_progesterone only: not an empty cell read as false),
# and unreadable text.
TEXT_CELLS = [None, "", "  ", "true", "FALSE", " yes ", "unknown", " Unknown ", "maybe"]
TYPED_CELLS = [None, True, False]


def _both(table: Any) -> tuple[int, int]:
    """(rows and defaulted cells from `rows_and_defaulted_cells`, the checks' sum)."""
    counted = rows_and_defaulted_cells(table).to_pyarrow().to_pylist()[0]
    checked = check_and_type(table, [])
    summed = checked.aggregate(n=checked.count(), d=checked.defaulted_false_cells.sum())
    by_checks = summed.to_pyarrow().to_pylist()[0]
    assert counted["rows"] == by_checks["n"]
    return counted["defaulted"], by_checks["d"] or 0


@pytest.mark.parametrize("cells", [TEXT_CELLS, TYPED_CELLS], ids=["text", "typed"])
def test_the_count_is_the_checks_sum(cells: list[Any]) -> None:
    con = ibis.duckdb.connect()
    rows = [
        {
            "episode_id": f"e{i}-{j}",
            "assessed_on": "2024-03-04",
            "miscarriage_diagnosed": a,
            "on_progesterone": b,
        }
        for i, a in enumerate(cells)
        for j, b in enumerate(cells)
    ]
    table = con.create_table("cohort", ibis.memtable(rows))
    counted, by_checks = _both(table)
    assert counted == by_checks > 0


@pytest.mark.parametrize("present", [(), ("on_progesterone",), ("miscarriage_diagnosed",)])
def test_a_missing_column_is_an_empty_cell_on_every_row(present: tuple[str, ...]) -> None:
    con = ibis.duckdb.connect()
    rows = [
        {"episode_id": f"e{i}", "assessed_on": "2024-03-04", **{n: "true" for n in present}}
        for i in range(3)
    ]
    counted, by_checks = _both(con.create_table("cohort", ibis.memtable(rows)))
    assert counted == by_checks == 3 * (2 - len(present))
