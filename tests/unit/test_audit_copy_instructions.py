"""`benchmarks/audit_copy_instructions.py` without valgrind: the SQL it dumps is the audit's
(its COPY, run the way the counted process runs it, writes the rows the audit writes) and the
hand-written query writes to the target it is given."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import audit_copy_instructions as counted  # noqa: E402

from earlypath.audit.run import run_audit  # noqa: E402
from earlypath.synth import write_cohort  # noqa: E402


def test_the_counted_copy_writes_what_the_audit_writes(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.parquet"
    write_cohort(2000, 3, "parquet", cohort)
    views, audit, hand = counted._dump(cohort, tmp_path)
    counted._worker(views, audit, tmp_path / "counted.parquet")
    counted._worker(views, hand, tmp_path / "hand.parquet")
    counted._worker(views, None, tmp_path / "nothing.parquet")  # the subtracted run

    run_audit(cohort, tmp_path / "out")

    def rows(path: Path) -> list[tuple]:
        return duckdb.sql(f"SELECT * FROM '{path}' ORDER BY row_number").fetchall()

    assert rows(tmp_path / "counted.parquet") == rows(tmp_path / "out" / "episodes.parquet")
    assert len(rows(tmp_path / "hand.parquet")) == 2000
    assert not (tmp_path / "nothing.parquet").exists()
