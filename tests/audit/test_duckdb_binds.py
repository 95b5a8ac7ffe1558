"""The DuckDB audit's fixed cost (issue 16: start-up): it binds its long judging SQL as few
times as it can, and runs on DuckDB's compiled module without the package's Python layers.

DuckDB binds a view's query when the view is created and again in each statement reading it:
for a small audit that is most of the run (about 0.02 s a bind of the checks and rules). The
judged episodes are read once, by the COPY, so they are a subquery there, and a view of them
is made only when ibis asks for the table (a caller of `evaluate`); so are the rejects before
the pass (they are found after it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import earlypath.audit.sql_table as sql_table
from earlypath.audit.pass_duckdb import JUDGED_EPISODES
from earlypath.audit.run import evaluate, run_audit

HEADER = (
    "episode_id,assessed_on,previous_miscarriages,vaginal_bleeding,lmp,scan_date,"
    "scan_location,fetal_pole,fetal_heartbeat,crl_mm,progesterone_prescribed,site"
)
ROWS = [
    "e1,2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,9.5,false,A",
    "e2,2024-03-04,,true,2024-01-15,,intrauterine,true,true,,true,B",
    "e3,2024-03-04,2,true,2024-01-20,2024-03-04,intrauterine,true,true,8.0,true,A",
]


def _cohort(tmp_path: Path) -> Path:
    source = tmp_path / "c.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return source


class _Spy:
    """A DuckDB connection that writes down each statement it is given."""

    def __init__(self, con: Any, statements: list[str]) -> None:
        self._con = con
        self._statements = statements

    def execute(self, sql: str, *args: Any) -> Any:
        self._statements.append(sql)
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _record_statements(monkeypatch: pytest.MonkeyPatch, statements: list[str]) -> None:
    """Every PlainDuckDB made from now on writes its statements into ``statements``."""
    plain_init = sql_table.PlainDuckDB.__init__

    def spied_init(self: sql_table.PlainDuckDB) -> None:
        plain_init(self)
        self.con = _Spy(self.con, statements)

    monkeypatch.setattr(sql_table.PlainDuckDB, "__init__", spied_init)


def _views(con: object) -> set[str]:
    rows = con.con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()  # type: ignore[attr-defined]
    return {row[0] for row in rows}


def test_the_judged_episodes_are_no_view_until_ibis_asks(tmp_path: Path) -> None:
    ev = evaluate(_cohort(tmp_path), "duckdb")
    assert JUDGED_EPISODES not in _views(ev.con)  # the COPY reads them as a subquery
    assert "earlypath_rejects" not in _views(ev.con)  # found after the pass
    assert "earlypath_checked" in ev.rejects.sql
    assert "earlypath_checked" in ev.episodes.sql  # ... of the checked rows' view
    # A caller that wants ibis's table gets it, the view made then: the same rows.
    table = ev.episodes.as_ibis()
    assert JUDGED_EPISODES in _views(ev.con)
    ids = sorted(ev.con.to_pyarrow(table.select("episode_id")).column(0).to_pylist())
    written = run_audit(_cohort(tmp_path), tmp_path / "out")
    from_file = pq.read_table(tmp_path / "out" / "episodes.parquet", columns=["episode_id"])
    assert ids == sorted(from_file.column(0).to_pylist())
    assert written.evaluated == len(ids) == 2  # e2: scan findings with no scan date, rejected
    rejected = ev.con.to_pyarrow(ev.rejects.as_ibis().select("episode_id")).column(0)
    assert rejected.to_pylist() == ["e2"]


def test_the_audit_s_connection_is_the_one_the_duckdb_package_gives(tmp_path: Path) -> None:
    # `duckdb_engine` is the compiled module the package re-exports: the same connection
    # class and errors, so ibis (which imports the package) and `except duckdb.X` agree.
    import duckdb

    from earlypath.audit.sql_table import PlainDuckDB, duckdb_engine

    engine = duckdb_engine()
    assert engine.connect is duckdb.connect
    assert engine.IOException is duckdb.IOException
    assert isinstance(PlainDuckDB().con, duckdb.DuckDBPyConnection)


def test_without_the_compiled_module_the_package_is_used(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    import duckdb

    from earlypath.audit.sql_table import duckdb_engine

    monkeypatch.setitem(sys.modules, "_duckdb", None)  # (another DuckDB release's layout)
    assert duckdb_engine() is duckdb


def test_an_audit_binds_the_checks_view_three_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm audit binds the checks' view when it makes it, in the COPY and in the rejects':
    the count of the empty cells read as false does not read it (each bind of the long checks
    cost a small audit about 0.02 s)."""
    cohort = tmp_path / "c.csv"
    cohort.write_text(
        "episode_id,assessed_on,miscarriage_diagnosed,on_progesterone\n"
        "e1,2024-03-04,,\ne2,2024-03-04,true,unknown\ne3,1999-01-01,,\n",
        encoding="utf-8",
    )
    statements: list[str] = []

    run_audit(cohort, tmp_path / "cold")  # builds and keeps the plans (ibis binds them too)
    _record_statements(monkeypatch, statements)
    result = run_audit(cohort, tmp_path / "out")
    reading_checks = [s.split()[0:4] for s in statements if "earlypath_checked" in s]
    assert len(reading_checks) == 3, reading_checks
    assert result.evaluated == 2  # e3: before NG126 came into force, rejected
    summary = (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    # e1's two empty cells (e2's "unknown" is not one; e3's two are rejected with it)
    assert '"empty_cells_read_as_false": 2' in summary


def test_a_clean_cohort_s_rejects_are_not_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row written (no reject): the rejects are not looked for again through the checks'
    view (its bind cost a small audit about 0.02 s), and the outputs are those of the Python
    engine, rejects.csv its header only."""
    cohort = tmp_path / "clean.csv"
    cohort.write_text("\n".join([HEADER, ROWS[0], ROWS[2]]) + "\n", encoding="utf-8")
    statements: list[str] = []

    run_audit(cohort, tmp_path / "cold")  # builds and keeps the plans
    _record_statements(monkeypatch, statements)
    result = run_audit(cohort, tmp_path / "out")
    reading_checks = [s.split()[0:4] for s in statements if "earlypath_checked" in s]
    assert len(reading_checks) == 2, reading_checks  # made, then read by the COPY
    assert (result.evaluated, result.rejected) == (2, 0)
    monkeypatch.undo()
    reference = run_audit(cohort, tmp_path / "python", engine="python")
    assert (reference.evaluated, reference.rejected) == (2, 0)
    rejects = (tmp_path / "out" / "rejects.csv").read_bytes()
    assert rejects == (tmp_path / "python" / "rejects.csv").read_bytes()
    assert rejects == b"row_number,episode_id,reason\r\n"
    assert result.summary["reconciliation"]["rejected"] == 0
    assert result.summary["reconciliation"]["balanced"]
