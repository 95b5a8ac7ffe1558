"""A DuckDB audit of a Parquet cohort reads the file's column names and types through DuckDB
(`earlypath.audit.parquet_families`), not pyarrow, whose import (with NumPy) cost 0.15-0.3 s of
every Parquet audit (issue 16). Where DuckDB cannot tell a type for certain, pyarrow is still
asked, so what is refused and the messages are unchanged (tests/audit/test_bad_files.py)."""

from __future__ import annotations

import datetime as dt
import decimal
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import earlypath
from earlypath.audit.load import pyarrow_family
from earlypath.audit.parquet_families import column_families

ROOT = Path(earlypath.__file__).resolve().parent.parent

AUDIT = """
import sys
from pathlib import Path
from earlypath.audit.run import run_audit
run_audit(Path(sys.argv[1]), Path(sys.argv[2]))
print(*[m for m in ("pyarrow", "numpy", "ibis") if m in sys.modules] or ["none"])
"""


def _cohort_table() -> pa.Table:
    return pa.table(
        {
            "episode_id": ["e1", "e2", "e2"],
            "assessed_on": [dt.date(2024, 3, 4)] * 3,
            "previous_miscarriages": pa.array([1, 0, 2], pa.int64()),
            "vaginal_bleeding": [True, True, None],
            "lmp": [dt.date(2024, 1, 15)] * 3,
            "scan_date": [dt.date(2024, 3, 4)] * 3,
            "scan_location": ["intrauterine"] * 3,
            "fetal_pole": [True] * 3,
            "fetal_heartbeat": [True] * 3,
            "crl_mm": [9.5, None, 9.5],
            "progesterone_prescribed": [False, True, False],
            "site": ["A", "B", None],
        }
    )


def _audit(source: Path, out: Path, plans: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EARLYPATH_PLAN_CACHE": plans}
    done = subprocess.run(
        [sys.executable, "-c", AUDIT, str(source), str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("writer", ["pyarrow", "duckdb"])
def test_a_warm_parquet_audit_imports_no_pyarrow(tmp_path: Path, writer: str) -> None:
    source = tmp_path / "c.parquet"
    if writer == "pyarrow":  # with the Arrow schema kept in the footer
        pq.write_table(_cohort_table(), source)
    else:
        con = duckdb.connect()
        con.register("cohort", _cohort_table())
        con.execute(f"COPY cohort TO '{source}' (FORMAT parquet)")
    plans = str(tmp_path / "plans")
    _audit(source, tmp_path / "cold", plans)  # builds and keeps the SQL (imports ibis)
    assert _audit(source, tmp_path / "warm", plans) == "none"
    for name in ("episodes.parquet", "rejects.csv"):
        assert (tmp_path / "cold" / name).read_bytes() == (tmp_path / "warm" / name).read_bytes()


def _family(t: pa.DataType) -> str:
    """The family as `earlypath.audit.load._refuse_types` gives it (the reference)."""
    return pyarrow_family(t)


COLUMNS = {
    "int64": pa.array([1, 2], pa.int64()),
    "uint8": pa.array([1, 2], pa.uint8()),
    "int16": pa.array([1, 2], pa.int16()),
    "duration": pa.array([1, 2], pa.duration("s")),  # INT64 in Parquet: not an integer
    "string": pa.array(["a", "b"]),
    "large_string": pa.array(["a", "b"], pa.large_string()),
    "string_view": pa.array(["a", "b"], pa.string_view()),
    "dictionary": pa.array(["a", "b"]).dictionary_encode(),
    "timestamp": pa.array([1, 2], pa.timestamp("us")),
    "timestamp_tz": pa.array([1, 2], pa.timestamp("ms", "UTC")),
    "timestamp_ns": pa.array([1, 2], pa.timestamp("ns")),
    "date32": pa.array([dt.date(2020, 1, 1)] * 2),
    "date64": pa.array([dt.date(2020, 1, 1)] * 2, pa.date64()),
    "decimal": pa.array([decimal.Decimal("1.5")] * 2),
    "null": pa.array([None, None]),
    "bool": pa.array([True, False]),
    "double": pa.array([1.0, 2.0]),
    "float": pa.array([1.0, 2.0], pa.float32()),
    "list": pa.array([[1], [2]]),
    "binary": pa.array([b"a", b"b"]),
    "time32": pa.array([1, 2], pa.time32("s")),
    "uuid": pa.array([b"0123456789abcdef"] * 2, pa.uuid()),
    "struct": pa.array([{"x": 1}, {"x": 2}]),
}


@pytest.mark.parametrize("kept_schema", [True, False], ids=["arrow-schema", "parquet-only"])
@pytest.mark.parametrize("name", list(COLUMNS))
def test_families_agree_with_pyarrow_or_defer_to_it(
    tmp_path: Path, name: str, kept_schema: bool
) -> None:
    path = tmp_path / "f.parquet"
    table = pa.table({"episode_id": pa.array(["a", "b"]), "crl_mm": COLUMNS[name]})
    pq.write_table(table, path, store_schema=kept_schema)
    schema = pq.ParquetFile(path).schema_arrow
    found = column_families(duckdb.connect(), path, ["episode_id", "crl_mm"])
    if found is not None:  # None: pyarrow is asked
        assert found == (schema.names, {f.name: _family(f.type) for f in schema})
    if name in ("int64", "string", "dictionary", "double", "bool", "date32", "timestamp"):
        assert found is not None  # the usual types are read without pyarrow
    if name == "duration" and kept_schema:
        assert found is None  # a duration kept as INT64 is not taken for an integer


def test_a_file_duckdb_cannot_read_is_left_to_pyarrow(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    path.write_bytes(b"not parquet")
    assert column_families(duckdb.connect(), path, ["episode_id"]) is None
