"""The DuckDB pass reads the episode ids as written when none is padded or empty (issue 16,
stop 39): the repeated ids are then grouped as written, and the checks' view does not clean the
ids on every row. A cohort with a padded id is cleaned as before; both give what the reference
engine gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from earlypath.audit.pass_duckdb import CHECKED, REPEATED_IDS
from earlypath.audit.run import evaluate
from earlypath.audit.validate import repeated_or_padded_ids
from tests.audit.helpers import FLAT_SCHEMA, GOOD_ROW, fetched, results, write_rows


def test_the_ids_as_written_that_repeat_or_may_change() -> None:
    ids = ["a", "a", "b", " c", "d\t", "", "e", None, None, "é ", "f"]
    rows = [{**GOOD_ROW, "episode_id": i} for i in ids]
    raw = ibis.memtable(pa.Table.from_pylist(rows, schema=FLAT_SCHEMA))
    found = repeated_or_padded_ids(raw)
    assert found is not None
    got = ibis.duckdb.connect().to_pyarrow(found).to_pylist()
    assert {(r["episode_id"], r["repeated"]) for r in got} == {
        ("a", True),
        (" c", False),
        ("d\t", False),
        ("", False),
        ("é ", False),
        (None, True),  # two missing ids: each has its own "is required"
    }


def _checks_sql(ev: Any) -> str:
    rows = ev.con.con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = ?", [CHECKED]
    ).fetchall()
    return str(rows[0][0]).lower()


def _rows(tmp_path: Path, ids: list[str]) -> Path:
    rows = [{**GOOD_ROW, "episode_id": i} for i in ids]
    return write_rows(rows, tmp_path / "cohort.parquet")


@pytest.mark.parametrize("padded", [False, True])
def test_ids_as_written_when_none_is_padded(tmp_path: Path, padded: bool) -> None:
    ids = ["e1", "e2", "e2", "e3", "e4 " if padded else "e4", "e4"]
    cohort = _rows(tmp_path, ids)
    ev = evaluate(cohort, "duckdb")
    sql = _checks_sql(ev)
    # Cleaned on every row only when an id is padded
    assert ("reverse(t0.episode_id)" in sql) is padded
    assert ("\"nullif\"(t0.episode_id, '') as episode_id" in sql) is not padded
    episodes, rejects = fetched(ev)
    assert [e["episode_id"] for e in episodes] == ["e1", "e3"]
    # "e4 " is "e4" once cleaned: both rows repeat it
    assert sorted(r["episode_id"] for r in rejects) == ["e2", "e2", "e4", "e4"]
    table = ev.con.con.execute(f"SELECT * FROM {REPEATED_IDS}").fetchall()
    assert sorted(row[0] for row in table) == ["e2", "e4"]
    assert results(cohort, "duckdb") == results(cohort, "python")
