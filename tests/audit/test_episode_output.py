"""episodes.parquet is in input order and of plain types, whichever way DuckDB got there.

The DuckDB writer skips the sort when the judged table is already in input order and checks the
file afterwards; these tests make that check fail on purpose, and take the path (many repeated
ids) where the order is not promised.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from earlypath.audit import pass_duckdb
from earlypath.audit.judge import FEW_REPEATED_IDS
from earlypath.audit.pass_duckdb import rows_in_order
from earlypath.audit.run import run_audit

HEADER = (
    "episode_id,assessed_on,previous_miscarriages,vaginal_bleeding,lmp,scan_date,"
    "scan_location,fetal_pole,fetal_heartbeat,crl_mm,progesterone_prescribed,site"
)
OFFER = "2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,9.5,{given},{site}"


def _cohort(path: Path, ids: list[str]) -> Path:
    lines = [HEADER]
    for n, episode_id in enumerate(ids):
        given = "true" if n % 3 else "false"
        lines.append(f"{episode_id}," + OFFER.format(given=given, site="AB"[n % 2]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _numbers(path: Path) -> list[int]:
    return pq.read_table(path, columns=["row_number"]).column(0).to_pylist()


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [([], True), ([7], True), ([1, 2, 5], True), ([1, 3, 2], False), ([1, 1, 2], False)],
)
def test_rows_in_order_reads_the_file(tmp_path: Path, numbers: list[int], expected: bool) -> None:
    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"row_number": pa.array(numbers, pa.int64())}), path)
    assert rows_in_order(path) is expected


def test_a_file_written_out_of_order_is_written_again_sorted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _cohort(tmp_path / "c.csv", [f"e{n}" for n in range(40)])
    real = pass_duckdb.copy_to_parquet
    calls: list[Path] = []

    def first_one_reversed(con, expr, target: Path) -> None:  # type: ignore[no-untyped-def]
        calls.append(target)
        if len(calls) == 1:  # as if DuckDB had reordered the rows
            expr = expr.order_by(expr.row_number.desc())
        real(con, expr, target)

    monkeypatch.setattr(pass_duckdb, "copy_to_parquet", first_one_reversed)
    run_audit(source, tmp_path / "out")
    assert len(calls) == 2
    assert _numbers(tmp_path / "out" / "episodes.parquet") == list(range(1, 41))


def test_in_order_first_time_is_written_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _cohort(tmp_path / "c.csv", [f"e{n}" for n in range(40)])
    real = pass_duckdb.copy_to_parquet
    calls: list[Path] = []

    def counted(con, expr, target: Path) -> None:  # type: ignore[no-untyped-def]
        calls.append(target)
        real(con, expr, target)

    monkeypatch.setattr(pass_duckdb, "copy_to_parquet", counted)
    run_audit(source, tmp_path / "out")
    assert len(calls) == 1
    assert _numbers(tmp_path / "out" / "episodes.parquet") == list(range(1, 41))


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_many_repeated_ids_are_all_rejected_and_the_rest_stay_in_order(
    tmp_path: Path, engine: str
) -> None:
    # More repeated ids than fit in the judging query as a list: DuckDB joins a table of them.
    repeated = FEW_REPEATED_IDS + 6
    ids = []
    for n in range(repeated):
        ids += [f"dup{n}", f"ok{n}", f"dup{n}"]
    source = _cohort(tmp_path / "c.csv", ids)
    result = run_audit(source, tmp_path / engine, engine=engine)  # type: ignore[arg-type]
    assert (result.rows_in, result.evaluated, result.rejected) == (
        3 * repeated,
        repeated,
        2 * repeated,
    )
    with open(tmp_path / engine / "rejects.csv", encoding="utf-8") as f:
        rejects = list(csv.DictReader(f))
    assert [int(r["row_number"]) for r in rejects] == [
        n for n in range(1, 3 * repeated + 1) if n % 3 != 2
    ]
    assert {r["reason"] for r in rejects} == {"episode_id: is not unique"}
    assert _numbers(tmp_path / engine / "episodes.parquet") == list(range(2, 3 * repeated, 3))


def test_fixed_value_columns_are_plain_text_in_the_file(tmp_path: Path) -> None:
    # DuckDB keeps decision, adherence and guideline_version as ENUMs while it works; readers of
    # episodes.parquet must still see ordinary strings.
    source = _cohort(tmp_path / "c.csv", ["a", "b", "c"])
    run_audit(source, tmp_path / "out")
    schema = pq.read_schema(tmp_path / "out" / "episodes.parquet")
    for name in ("decision", "adherence", "guideline_version"):
        assert schema.field(name).type == pa.string(), name
    rows = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    assert [r["decision"] for r in rows] == ["offer"] * 3
    assert [r["adherence"] for r in rows] == ["not_offered", "offered", "offered"]
