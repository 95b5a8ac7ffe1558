"""A cohort given as a folder of part files: every engine numbers rows in the defined order
(files by name in byte order, then rows in file order), whatever the file sizes and splits."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from earlypath.audit.load import spark_block_bases
from earlypath.audit.run import evaluate, run_audit
from earlypath.synth import write_cohort
from tests.audit.helpers import episode_results, fetched

# Byte order, not natural order: "part-1 big" < "part-10" (space < "0") < "part-2". Spark reads
# the largest file first, and splits "part-1 big" into several partitions.
PARTS = {
    "part-0": (0, 400),
    "part-1 big": (400, 3100),
    "part-10": (3100, 3400),
    "part-2": (3400, 4000),
    "part-3": (4000, 4000),  # empty, as Spark writes for an empty partition
}
N = 4000
# Deliberately bad rows (0-based positions in the defined order) and the field each is refused for.
BAD = {
    5: "episode_id",  # the id of row 3500 again: both rows are refused
    3500: "episode_id",
    1500: "previous_miscarriages",  # in a late split of "part-1 big"
    2600: "episode_id",  # no id
    3200: "assessed_on",  # before NG126
    3999: "lmp",  # after assessed_on
}


def _cohort(tmp_path: Path) -> pa.Table:
    rows = pq.read_table(write_cohort(N, 11, "parquet", tmp_path / "whole.parquet")).to_pylist()
    rows[5]["episode_id"] = rows[3500]["episode_id"]
    rows[1500]["previous_miscarriages"] = -2
    rows[2600]["episode_id"] = None
    rows[3200].update(assessed_on=dt.date(2018, 6, 1), guideline_version=None)
    rows[3999]["lmp"] = rows[3999]["assessed_on"] + dt.timedelta(days=5)
    return pa.Table.from_pylist(rows, schema=pq.read_schema(tmp_path / "whole.parquet"))


def _write_parts(table: pa.Table, folder: Path, fmt: str) -> Path:
    folder.mkdir()
    for name, (start, stop) in PARTS.items():
        part = table.slice(start, stop - start)
        if fmt == "parquet":
            pq.write_table(part, folder / f"{name}.parquet", row_group_size=300)
        else:
            pacsv.write_csv(part, folder / f"{name}.csv")
    (folder / "_SUCCESS").write_text("")  # skipped, as Spark skips it
    (folder / ".part-0.crc").write_text("checksum")
    return folder


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("parts")
    table = _cohort(root)
    return {
        "ids": dict(enumerate(table.column("episode_id").to_pylist(), start=1)),
        "parquet": _write_parts(table, root / "parquet", "parquet"),
        "csv": _write_parts(table, root / "csv", "csv"),
    }


def _outcome(path: Path, engine: str, spark: Any = None) -> dict[str, Any]:
    """Per row number: the episode's id and results, or the reject's id and reason."""
    episodes, rejects = fetched(evaluate(path, engine, spark=spark))  # type: ignore[arg-type]
    assert len(episodes) + len(rejects) == N
    return {
        "episodes": {
            e["row_number"]: (e["episode_id"], *episode_results(e), e["site"]) for e in episodes
        },
        "rejects": {r["row_number"]: (r["episode_id"] or None) for r in rejects},
        "reasons": {r["row_number"]: r["reject_reason"] for r in rejects},
    }


def _assert_in_defined_order(outcome: dict[str, Any], ids: dict[int, str | None]) -> None:
    found = {n: e[0] for n, e in outcome["episodes"].items()} | outcome["rejects"]
    assert found == ids  # every row once, numbered by its position in the defined order
    for position, field in BAD.items():
        assert f"{field}:" in outcome["reasons"][position + 1]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_duckdb_and_python_number_part_files_in_name_order(
    cohort: dict[str, Any], fmt: str
) -> None:
    duck = _outcome(cohort[fmt], "duckdb")
    python = _outcome(cohort[fmt], "python")
    _assert_in_defined_order(duck, cohort["ids"])
    assert python["episodes"] == duck["episodes"]
    assert python["rejects"] == duck["rejects"]


@pytest.mark.spark
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_spark_numbers_part_files_in_name_order_whatever_the_splits(
    cohort: dict[str, Any], fmt: str, spark: Any
) -> None:
    from pyspark.sql import functions as F

    folder = cohort[fmt]
    files = sorted(str(p) for p in folder.glob(f"part-*.{fmt}"))
    # Splits a little larger than every file but the big one: only that one is split.
    split = max(Path(f).stat().st_size for f in files if "big" not in f) + 1024
    before = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(split))
    try:
        if fmt == "csv":
            # CSV is read whole (multiLine, so that quoted line breaks stay in their row): the
            # files are not split, but still read in size order, not by name.
            df = spark.read.option("header", "true").option("multiLine", "true").csv(files)
            assert df.rdd.getNumPartitions() == len(PARTS)
        else:
            # The case worth testing: the big file is split, and read first (by size).
            df = spark.read.parquet(*files)
            assert df.rdd.getNumPartitions() > len(PARTS)
        first = df.select(F.col("_metadata.file_name")).first()
        assert first is not None and first[0].startswith("part-1")
        sp = _outcome(folder, "spark", spark)
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", before)
    _assert_in_defined_order(sp, cohort["ids"])
    duck = _outcome(folder, "duckdb")
    assert sp["episodes"] == duck["episodes"]
    assert sp["rejects"] == duck["rejects"]


def test_an_audit_of_a_folder_reconciles_and_finds_its_rows(
    cohort: dict[str, Any], tmp_path: Path
) -> None:
    result = run_audit(cohort["csv"], tmp_path / "out", group_by=["site"])
    assert result.rows_in == result.evaluated + result.rejected == N
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["reconciliation"]["balanced"] is True
    with open(tmp_path / "out" / "rejects.csv", encoding="utf-8") as handle:
        rejects = {int(r["row_number"]): r["reason"] for r in csv.DictReader(handle)}
    for position, field in BAD.items():
        assert f"{field}:" in rejects[position + 1]
    numbers = pq.read_table(tmp_path / "out" / "episodes.parquet").column("row_number")
    assert numbers.to_pylist() == sorted(set(range(1, N + 1)) - set(rejects))


def _parquet(path: Path, **columns: list[Any]) -> None:
    pq.write_table(pa.table(columns), path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: None, "without FHIR NDJSON, Parquet"),
        (lambda d: (d / "a.csv").write_text("episode_id\n1\n"), "mixes Parquet and CSV"),
        (lambda d: (d / "b.csv.gz").write_bytes(b"x"), r"not parquet part files \(b.csv.gz\)"),
        # A partition folder beside flat part files (hive layouts: test_hive_partitions.py)
        (lambda d: (d / "year=2024").mkdir(), r"folder year=2024 is under the partition keys"),
        (
            lambda d: _parquet(d / "b.parquet", episode_id=[2], site=[1]),
            "b.parquet does not have the same columns",
        ),
    ],
)
def test_a_folder_that_is_not_one_set_of_part_files_is_refused(
    tmp_path: Path, make: Any, message: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    if message != "without FHIR NDJSON, Parquet":
        _parquet(folder / "a.parquet", episode_id=["e1"], site=["A"])
    make(folder)
    with pytest.raises(ValueError, match=message):
        evaluate(folder, "duckdb")


def test_csv_parts_must_share_their_header(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("episode_id,assessed_on\nsecret-1,2024-03-04\n")
    (folder / "b.csv").write_text("assessed_on,episode_id\n2024-03-04,secret-2\n")
    with pytest.raises(ValueError, match="b.csv does not have the same header") as error:
        evaluate(folder, "python")
    assert "secret" not in str(error.value)


def test_spark_block_bases_put_blocks_after_earlier_files_and_blocks() -> None:
    files = [Path("a b.csv"), Path("c.csv")]
    # (file as Spark names it, block start, rows, first and last position), in any order.
    blocks = [
        ("c.csv", 0, 2, 100, 101),
        ("a%20b.csv", 4096, 3, 7, 9),
        ("a%20b.csv", 0, 4, 20, 23),
    ]
    bases = {(name, block): base for name, block, base in spark_block_bases(files, blocks)}
    # a b.csv: block 0 holds rows 1-4, block 4096 rows 5-7; c.csv rows 8-9.
    assert 20 + bases[("a%20b.csv", 0)] + 1 == 1
    assert 7 + bases[("a%20b.csv", 4096)] + 1 == 5
    assert 100 + bases[("c.csv", 0)] + 1 == 8
    with pytest.raises(RuntimeError, match="in order"):
        spark_block_bases(files, [("c.csv", 0, 2, 100, 102)])
