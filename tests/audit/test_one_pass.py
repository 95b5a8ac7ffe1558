"""DuckDB checks, judges and writes episodes.parquet in one streamed pass (issue 16).

No judged table is built; the rejects are the input rows missing from the written file, checked
again; the empty cells read as false are every row's count less the rejects'. These tests hold
that the outputs are what the reference engine gives, row for row and count for count.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from earlypath.audit import pass_duckdb
from earlypath.audit import run as run_module
from earlypath.audit.run import run_audit

HEADER = (
    "episode_id,assessed_on,previous_miscarriages,vaginal_bleeding,lmp,scan_date,"
    "scan_location,fetal_pole,fetal_heartbeat,crl_mm,miscarriage_diagnosed,on_progesterone,"
    "progesterone_prescribed,site"
)
ROWS = [
    "a1,2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,9.5,,,true,A",
    # A CRL far out of range: rejected, and never reaches the dating arithmetic (which would
    # overflow on it) because the rules run only on the rows that passed the checks.
    "a2,2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,1e300,,,true,A",
    "a3,2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,9.5,false,,false,B",
    "a4,2024-03-04,x,true,,,,,,,,,,B",  # unreadable count, two empty true/false cells
    "a5,2024-03-04,0,,,,,,,,false,false,,A",  # undecidable
    "a6,2024-02-30,1,true,,,,,,,,,,A",  # bad date
    "a7,2024-03-04,2,true,2024-01-20,2024-03-04,intrauterine,true,true,12,,true,true,B",
]


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    path = tmp_path / "cohort.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def _outputs(out: Path) -> tuple[list[dict[str, Any]], dict[int, str], dict[str, Any]]:
    episodes = pq.read_table(out / "episodes.parquet").to_pylist()
    with open(out / "rejects.csv", encoding="utf-8") as f:
        rejects = {int(r["row_number"]): r["reason"].split(":")[0] for r in csv.DictReader(f)}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return episodes, rejects, summary


def test_duckdb_outputs_match_the_reference_engine(cohort: Path, tmp_path: Path) -> None:
    run_audit(cohort, tmp_path / "duckdb")
    run_audit(cohort, tmp_path / "python", engine="python")
    duck, ref = _outputs(tmp_path / "duckdb"), _outputs(tmp_path / "python")
    assert duck[0] == ref[0]  # every episode column, in input order
    assert [e["row_number"] for e in duck[0]] == [1, 3, 5, 7]
    assert duck[1] == ref[1] == {2: "crl_mm", 4: "previous_miscarriages", 6: "assessed_on"}
    # Empty cells read as false, episodes only: a1 two, a3 one, a7 one (a4's two are rejected)
    assert duck[2]["data_quality"] == ref[2]["data_quality"]
    assert duck[2]["data_quality"]["empty_cells_read_as_false"] == 4
    assert duck[2]["reconciliation"] == ref[2]["reconciliation"]


def test_no_judged_table_is_built(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: dict[str, int] = {}
    end = run_module._end_duckdb

    def noted(con: Any) -> None:  # what the connection holds when the audit ends it
        names = [r[0] for r in con.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        sizes.update(
            {n: con.con.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0] for n in names}
        )
        end(con)

    monkeypatch.setattr(run_module, "_end_duckdb", noted)
    result = run_audit(cohort, tmp_path / "out")
    assert (result.evaluated, result.rejected) == (4, 3)
    assert sizes  # (read before the audit closed its connection)
    # Only the repeated ids, the rejects and the row numbers not written (the gaps in the
    # file, at most one a reject, and the numbers in them) are held (the input itself is a CSV
    # loaded as text).
    held = {n: size for n, size in sizes.items() if n != "earlypath_raw_cohort_t"}
    small = {"earlypath_gaps_in_the_file", "earlypath_rows_not_written"}
    assert set(held) <= {"earlypath_repeated_ids", "earlypath_rejects_found", *small}, sizes
    assert held.get("earlypath_rejects_found") == 3
    assert all(held[n] <= 3 + 1 for n in small & set(held)), sizes


def test_the_copy_runs_with_a_bounded_memory_limit_then_the_default_returns() -> None:
    import duckdb

    duck = duckdb.connect()

    def limit() -> str:
        return duck.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]

    default = limit()
    duck.execute("CREATE TABLE held AS SELECT range AS i FROM range(1000000)")
    with pass_duckdb.bounded_copy_memory(duck):
        during = limit()
    assert limit() == default
    assert during != default
    assert during.endswith("GiB") and 1.0 <= float(during.split()[0]) < 1.2  # held + 1 GiB
