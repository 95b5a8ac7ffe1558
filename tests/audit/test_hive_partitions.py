"""A Hive-partitioned cohort (``key=value`` folders, as Spark writes one): the keys become text
columns, rows are numbered in the defined order (files by relative path as bytes, then rows in
file order) on every engine, and layouts the engines could read differently are refused."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from earlypath.audit.parts import input_parts
from earlypath.audit.run import evaluate
from earlypath.cli import app
from earlypath.errors import InputError
from earlypath.synth import write_cohort
from tests.audit.helpers import episode_results, fetched

# The part files in the defined order, with the rows (0-based, of the whole cohort) each holds.
# Two keys; five files named part-00000 in different partitions. Byte order of the whole path:
# "site=007" < "site=A" (text: a number would lose its zero), "site=A/part-1" <
# "site=B%20Wing/..." < "site=B/..." ("%" < "/"), and "year=2025" < "year=__HIVE..." ("2" < "_").
LAYOUT = [
    ("year=2024/site=007/part-00000", 0, 150),
    ("year=2024/site=A/part-00000", 150, 300),
    ("year=2024/site=A/part-1", 300, 420),
    ("year=2024/site=B%20Wing/part-00000", 420, 600),
    ("year=2024/site=B/part-00000", 600, 600),  # empty, as Spark writes for an empty task
    ("year=2024/site=B/part-00001", 600, 800),
    ("year=2025/site=Zo%C3%AB/part-00000", 800, 1000),  # as pyarrow and DuckDB escape "Zoë"
    ("year=__HIVE_DEFAULT_PARTITION__/site=A/part-00000", 1000, 1200),  # year NULL
]
# Each file's (year, site), as text.
VALUES = [
    ("2024", "007"),
    ("2024", "A"),
    ("2024", "A"),
    ("2024", "B Wing"),
    ("2024", "B"),
    ("2024", "B"),
    ("2025", "Zoë"),
    (None, "A"),
]
N = 1200
# Deliberately bad rows (0-based positions in the defined order) and the field each is refused for.
BAD = {
    5: "episode_id",  # the id of row 1100, in another partition's part-00000: both refused
    1100: "episode_id",
    310: "previous_miscarriages",  # in part-1, which sorts before site=B's part-00000
    650: "episode_id",  # no id
    1050: "assessed_on",  # before NG126, in the NULL partition
    1199: "lmp",  # after assessed_on: the last row
}


def _cohort(root: Path) -> pa.Table:
    """The synthetic cohort with its bad rows, without ``site`` (the folders hold it, as when
    Spark writes with partitionBy)."""
    whole = pq.read_table(write_cohort(N, 23, "parquet", root / "whole.parquet"))
    rows = whole.to_pylist()
    rows[5]["episode_id"] = rows[1100]["episode_id"]
    rows[310]["previous_miscarriages"] = -2
    rows[650]["episode_id"] = None
    rows[1050].update(assessed_on=dt.date(2018, 6, 1), guideline_version=None)
    rows[1199]["lmp"] = rows[1199]["assessed_on"] + dt.timedelta(days=5)
    return pa.Table.from_pylist(rows, schema=whole.schema).drop_columns(["site"])


def _write(table: pa.Table, folder: Path, fmt: str) -> Path:
    for name, start, stop in LAYOUT:
        path = folder / f"{name}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        part = table.slice(start, stop - start)
        if fmt == "parquet":
            pq.write_table(part, path, row_group_size=70)
        else:
            pacsv.write_csv(part, path)
    # Skipped at any depth, as Spark skips them, even when they hold part files.
    (folder / "_SUCCESS").write_text("")
    (folder / "year=2024" / "site=A" / ".part-00000.crc").write_text("checksum")
    (folder / "_temporary" / "0").mkdir(parents=True)
    pq.write_table(table.slice(0, 3), folder / "_temporary" / "0" / "part-00000.parquet")
    (folder / "year=2026").mkdir()  # an empty partition: holds no rows, and is in step
    return folder


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hive")
    table = _cohort(root)
    partition = [
        values
        for (_, start, stop), values in zip(LAYOUT, VALUES, strict=True)
        for _ in range(start, stop)
    ]
    return {
        "ids": dict(enumerate(table.column("episode_id").to_pylist(), start=1)),
        "partition": dict(enumerate(partition, start=1)),
        "parquet": _write(table, root / "parquet", "parquet"),
        "csv": _write(table, root / "csv", "csv"),
    }


def _outcome(path: Path, engine: str, spark: Any = None) -> dict[str, Any]:
    """Per row number: the episode's id, results and partition values, or the reject's id."""
    ev = evaluate(path, engine, spark=spark)  # type: ignore[arg-type]
    for key in ("year", "site"):
        assert ev.episodes.schema()[key].is_string()  # text on every engine, never inferred
    episodes, rejects = fetched(ev)
    assert len(episodes) + len(rejects) == N
    return {
        "episodes": {
            e["row_number"]: (
                e["episode_id"],
                *episode_results(e),
                e["age_band"],
                (e["year"], e["site"]),
            )
            for e in episodes
        },
        "rejects": {r["row_number"]: (r["episode_id"] or None) for r in rejects},
        "reasons": {r["row_number"]: r["reject_reason"] for r in rejects},
    }


def _assert_in_defined_order(outcome: dict[str, Any], cohort: dict[str, Any]) -> None:
    found = {n: e[0] for n, e in outcome["episodes"].items()} | outcome["rejects"]
    assert found == cohort["ids"]  # every row once, numbered by its position in the defined order
    for number, episode in outcome["episodes"].items():
        assert episode[-1] == cohort["partition"][number]
    for position, field in BAD.items():
        assert f"{field}:" in outcome["reasons"][position + 1]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_layout_is_read_in_path_order_with_unescaped_text_values(
    cohort: dict[str, Any], fmt: str
) -> None:
    parts = input_parts(cohort[fmt], fmt)  # type: ignore[arg-type]
    assert parts.names == [f"{name}.{fmt}" for name, _, _ in LAYOUT]
    assert parts.keys == ("year", "site")
    assert parts.values == VALUES


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_duckdb_and_python_number_partitioned_parts_in_path_order(
    cohort: dict[str, Any], fmt: str
) -> None:
    duck = _outcome(cohort[fmt], "duckdb")
    python = _outcome(cohort[fmt], "python")
    _assert_in_defined_order(duck, cohort)
    assert python["episodes"] == duck["episodes"]
    assert python["rejects"] == duck["rejects"]


@pytest.mark.spark
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_spark_agrees_on_a_partitioned_cohort(cohort: dict[str, Any], fmt: str, spark: Any) -> None:
    # Spark, left to find the partitions itself, would read "Zo%C3%AB" as "ZoÃ«" and the years
    # as integers: the values come from parts.py, joined by each file's relative path.
    sp = _outcome(cohort[fmt], "spark", spark)
    _assert_in_defined_order(sp, cohort)
    duck = _outcome(cohort[fmt], "duckdb")
    assert sp["episodes"] == duck["episodes"]
    assert sp["rejects"] == duck["rejects"]


def test_group_by_a_partition_key_reports_its_values(
    cohort: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = CliRunner().invoke(
        app, ["audit", str(cohort["csv"]), "--out", str(out), "--group-by", "year", "--quiet"]
    )
    assert done.exit_code == 0, done.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    with open(out / "rejects.csv", encoding="utf-8") as handle:
        rejected = {int(r["row_number"]) for r in csv.DictReader(handle)}
    assert rejected >= {n + 1 for n in BAD}
    expected: dict[str, int] = {}
    for number, (year, _) in cohort["partition"].items():
        if number not in rejected:
            label = year or "(not recorded)"
            expected[label] = expected.get(label, 0) + 1
    by_year = summary["by_group"]["year"]
    assert {value: cell["episodes"] for value, cell in by_year.items()} == expected
    assert set(summary["by_group"]["site"]) == {"007", "A", "B", "B Wing", "Zoë"}


def _parquet(path: Path, **columns: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns or {"episode_id": ["e1"], "assessed_on": ["2024-03-04"]}), path)


def _csv(path: Path, text: str = "episode_id,assessed_on\ne1,2024-03-04\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _loop(d: Path) -> None:
    _parquet(d / "year=2024" / "a.parquet")
    os.symlink(d / "year=2024", d / "year=2024" / "site=A")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (  # mixed depth
            lambda d: (
                _parquet(d / "year=2024/a.parquet"),
                _parquet(d / "year=2025/site=A/b.parquet"),
            ),
            r"file year=2025/site=A/b.parquet is under the partition keys \(year, site\) but "
            r"year=2024/a.parquet under \(year\)",
        ),
        (  # a part file beside the partition folders
            lambda d: (_parquet(d / "b.parquet"), _parquet(d / "year=2025/a.parquet")),
            r"file year=2025/a.parquet is under the partition keys \(year\) but b.parquet under "
            r"\(none\)",
        ),
        (  # the same keys in another order
            lambda d: (
                _parquet(d / "year=2024/site=A/a.parquet"),
                _parquet(d / "site=B/year=2025/a.parquet"),
            ),
            r"file year=2024/site=A/a.parquet is under the partition keys \(year, site\) but "
            r"site=B/year=2025/a.parquet under \(site, year\)",
        ),
        (  # an empty folder below the depth of the part files
            lambda d: (
                _parquet(d / "year=2024/a.parquet"),
                (d / "year=2025/site=A").mkdir(parents=True),
            ),
            r"folder year=2025/site=A is under the partition keys \(year, site\)",
        ),
        (
            lambda d: _parquet(d / "year=2024/extra/a.parquet"),
            r"year=2024/extra is a subfolder not named key=value",
        ),
        (
            lambda d: _parquet(d / "year=/a.parquet"),
            r"year= is a subfolder not named key=value",
        ),
        (
            lambda d: _parquet(d / "year=2024/year=2025/a.parquet"),
            r"year=2024/year=2025/a.parquet repeats the partition key year",
        ),
        (
            lambda d: _parquet(d / "site=%FF/a.parquet"),
            r"site=%FF/a.parquet: '%FF' in a folder name has %-escapes that are not UTF-8",
        ),
        (
            lambda d: (_parquet(d / "year=2024/a.parquet"), _csv(d / "year=2025/a.csv")),
            r"mixes Parquet and CSV files \(year=2024/a.parquet, year=2025/a.csv\)",
        ),
        (
            lambda d: (
                _parquet(d / "year=2024/a.parquet"),
                (d / "year=2025").mkdir(),
                (d / "year=2025/a.json").write_text("{}"),
            ),
            r"not parquet part files \(year=2025/a.json\)",
        ),
        (
            lambda d: (
                _parquet(d / "year=2024/a.parquet"),
                _parquet(d / "year=2025/a.parquet", episode_id=["e2"]),
            ),
            r"year=2025/a.parquet does not have the same columns \(names and types\) as "
            r"year=2024/a.parquet",
        ),
        (
            lambda d: (
                _csv(d / "year=2024/a.csv"),
                _csv(d / "year=2025/a.csv", "assessed_on,episode_id\n2024-03-04,e2\n"),
            ),
            r"year=2025/a.csv does not have the same header as year=2024/a.csv",
        ),
        (_loop, r"year=2024/site=A links to a folder already read"),
    ],
)
def test_an_inconsistent_layout_is_refused_naming_the_path(
    tmp_path: Path, make: Any, message: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    make(folder)
    with pytest.raises(ValueError, match=message):
        evaluate(folder, "duckdb")


@pytest.mark.parametrize(
    ("folders", "key", "message"),
    [
        ("site=A", "site", "is both a partition key"),
        ("Site=A", "Site", "is both a partition key"),  # the engines match names in any case
        ("assessed_on=2024-03-04", "assessed_on", "named like a column the audit reads"),
        ("Row_Number=1", "Row_Number", "named like a column the audit reads or adds"),
        ("Month=2024-03", "Month", "named like a column the audit reads or adds"),
    ],
)
def test_a_partition_key_named_like_a_column_is_refused(
    tmp_path: Path, folders: str, key: str, message: str
) -> None:
    folder = tmp_path / "in"
    _parquet(folder / folders / "a.parquet", episode_id=["e1"], site=["A"])
    with pytest.raises(InputError) as error:
        evaluate(folder, "python")
    assert [p.field for p in error.value.problems] == [key]
    assert message in error.value.problems[0].message


def test_a_refused_layout_is_an_input_error_on_the_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _csv(folder / "region=north/site=secret-1/a.csv", "site,episode_id\nA,secret-2\n")
    done = CliRunner().invoke(app, ["audit", str(folder), "--out", str(tmp_path / "out")])
    assert done.exit_code == 2
    assert "site: is both a partition key" in done.output
    assert "secret-2" not in done.output  # the files' cells are never shown


def test_key_value_folders_above_the_input_are_not_partitions(tmp_path: Path) -> None:
    # DuckDB, left to itself, finds key=value folders anywhere in a file's path and adds them
    # as columns (Spark does not, for files it is given): the input starts where it is given.
    path = tmp_path / "year=2024" / "site=A" / "cohort.csv"
    _csv(path)
    for source in (path, path.parent):
        assert evaluate(source, "duckdb").extra_columns == []
        assert evaluate(source, "python").extra_columns == []
