"""An empty cell of a column read as false (`flat.DEFAULT_FALSE`: miscarriage_diagnosed,
on_progesterone) is ``x IS NOT DISTINCT FROM TRUE`` on DuckDB, not a COALESCE (issue 16, stop
31): the same values as the portable form (the checks built on an unbound table), for typed
cells and for text cells, "unknown" still Unknown."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from earlypath.audit.flat import DEFAULT_FALSE
from tests.audit.checks_forms import bound, portable
from tests.audit.helpers import FLAT_SCHEMA, GOOD_ROW

TYPED = [
    {**GOOD_ROW, "episode_id": f"t{i}", "miscarriage_diagnosed": a, "on_progesterone": b}
    for i, (a, b) in enumerate(
        [(None, None), (True, False), (False, True), (None, True), (True, None)]
    )
]
TEXT_CELLS = ["", "  ", "unknown", "true", "FALSE", "yes", "no", None]
OUT = ("episode_id", *DEFAULT_FALSE, "defaulted_false_cells", "reject_reason")


def _as_text(rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema(
        [pa.field(f.name, pa.string()) if f.name in DEFAULT_FALSE else f for f in FLAT_SCHEMA]
    )
    return pa.Table.from_pylist(rows, schema=schema)


TEXT = _as_text(
    [
        {**GOOD_ROW, "episode_id": f"x{i}-{j}", "miscarriage_diagnosed": a, "on_progesterone": b}
        for i, a in enumerate(TEXT_CELLS)
        for j, b in enumerate(TEXT_CELLS)
    ]
)


def test_typed_cells_read_as_false_without_coalesce() -> None:
    table = pa.Table.from_pylist(TYPED, schema=FLAT_SCHEMA)
    sql, rows = bound(table, OUT)
    for name in DEFAULT_FALSE:
        assert not re.search(rf'COALESCE\("t\d+"\."{name}", FALSE\)', sql), name
        assert re.search(rf'"t\d+"\."{name}" IS NOT DISTINCT FROM TRUE', sql), name
    assert rows == portable(table, OUT)
    got = {r["episode_id"]: (r["miscarriage_diagnosed"], r["on_progesterone"]) for r in rows}
    assert got == {
        "t0": (False, False),
        "t1": (True, False),
        "t2": (False, True),
        "t3": (False, True),
        "t4": (True, False),
    }
    assert [r["defaulted_false_cells"] for r in rows] == [2, 0, 0, 1, 1]


def test_text_cells_read_as_the_portable_form_reads_them() -> None:
    sql, rows = bound(TEXT, OUT)
    assert "IS NOT DISTINCT FROM TRUE" in sql
    assert rows == portable(TEXT, OUT)
    got = {r["episode_id"]: r["on_progesterone"] for r in rows if r["reject_reason"] is None}
    assert got["x3-0"] is False and got["x3-2"] is None and got["x3-3"] is True
