"""A bad input file gets the same exit code and the same message on every engine (python,
DuckDB, Spark): the file checks run before any engine reads a row."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from earlypath.audit.commands import audit_failure
from earlypath.audit.run import run_audit

HEADER = "episode_id,assessed_on,previous_miscarriages,vaginal_bleeding,lmp\n"
ROWS = [
    "e1,2024-03-04,1,true,2024-01-15\n",
    "e2,2024-03-04,0,false,2024-01-15\n",
    "e3,2024-03-05,2,true,2024-01-20\n",
]


def _text(name: str, data: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return write


def _parquet(name: str, columns: dict[str, Any]) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        pq.write_table(pa.table(columns), folder / name)
        return folder / name

    return write


def _fhir(encounter_line_2: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    """A synthetic FHIR export whose Encounter.ndjson has its second line spoilt."""

    def write(folder: Path) -> Path:
        from earlypath.synth import write_cohort

        write_cohort(5, 1, "fhir-ndjson", folder / "export")
        path = folder / "export" / "Encounter.ndjson"
        lines = path.read_bytes().splitlines(keepends=True)
        lines[1] = encounter_line_2(lines[1])
        path.write_bytes(b"".join(lines))
        return folder / "export"

    return write


MANY = "episode_id,assessed_on\n" + "".join(f"e{i},2024-03-04\n" for i in range(3000))
# name -> (how to write it, the exact stderr every engine gives); each exits 2.
CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "nul_in_header": (
        _text("c.csv", b"episode_id,assessed_on,previous_mis\x00carriages\n" + ROWS[0].encode()),
        "INPUT: c.csv: column 3 of the header line has a control character (a NUL byte?): "
        "is it a text CSV file?",
    ),
    "line_with_a_field_too_many": (
        _text("c.csv", (HEADER + ROWS[0] + ROWS[1].strip() + ",extra\n" + ROWS[2]).encode()),
        "INPUT: c.csv line 3 does not have the header's 5 fields "
        "(check its quoting and the number of fields on each line)",
    ),
    "line_with_a_field_too_few": (
        _text("c.csv", (HEADER + ROWS[0] + "e2,2024-03-04\n" + ROWS[2]).encode()),
        "INPUT: c.csv line 3 does not have the header's 5 fields "
        "(check its quoting and the number of fields on each line)",
    ),
    "utf16": (
        _text("c.csv", (HEADER + "".join(ROWS)).encode("utf-16")),
        "INPUT: c.csv is not UTF-8 text: save the file as UTF-8",
    ),
    "bad_utf8_far_down": (
        _text("c.csv", MANY.encode() + b"\xe9,2024-03-04\n"),
        "INPUT: c.csv line 3002 is not UTF-8 text: save the file as UTF-8",
    ),
    "no_assessed_on_column": (
        _text("c.csv", b"episode_id,lmp\ne1,2024-01-15\n"),
        "INPUT: the cohort has no assessed_on column",
    ),
    "date_column_of_integers": (
        _parquet("c.parquet", {"episode_id": ["a", "b"], "assessed_on": [20240304, 20240304]}),
        "assessed_on: has the Parquet type int64: expected text (YYYY-MM-DD), dates or timestamps",
    ),
    "id_column_of_structs": (
        _parquet("c.parquet", {"episode_id": [{"x": 1}], "assessed_on": ["2024-03-04"]}),
        "episode_id: has the Parquet type struct<x: int64>: expected text or whole numbers",
    ),
    "fhir_line_not_utf8": (
        _fhir(lambda line: b"\xff" + line),
        "INPUT: Encounter.ndjson line 2 is not readable as FHIR NDJSON "
        "(UTF-8 JSON, one resource a line)",
    ),
    "fhir_utf16": (
        _fhir(lambda line: line.decode().encode("utf-16")),
        "INPUT: Encounter.ndjson is UTF-16 text: save it as UTF-8",
    ),
    # DuckDB read such a column where Python failed with a bare KeyError (found by the w15 probe).
    "nul_in_parquet_column_name": (
        _parquet(
            "c.parquet",
            {"episode_id": ["a"], "assessed_on": ["2024-03-04"], "lm\x00p": ["2024-01-15"]},
        ),
        "INPUT: c.parquet: column 3 of the Parquet schema has a control character "
        "(a NUL byte?): a broken export?",
    ),
    "not_parquet": (
        _text("c.parquet", (HEADER + ROWS[0]).encode()),
        "INPUT: c.parquet is not a readable Parquet file (ArrowInvalid)",
    ),
}


def outcome(path: Path, out: Path, engine: str, spark: Any = None) -> tuple[int, str]:
    try:
        run_audit(path, out, engine=engine, spark=spark)  # type: ignore[arg-type]
    except Exception as error:
        code, lines = audit_failure(error)
        return code, "\n".join(lines)
    return 0, ""


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_bad_file_exits_2_with_the_same_message(case: str, engine: str, tmp_path: Path) -> None:
    write, message = CASES[case]
    assert outcome(write(tmp_path), tmp_path / "out", engine) == (2, message)
    assert not (tmp_path / "out").exists()  # nothing written


def test_the_cli_prints_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from earlypath import cli

    write, message = CASES["line_with_a_field_too_many"]
    path = write(tmp_path)
    monkeypatch.setattr(sys, "argv", ["earlypath", "audit", str(path), "--out", "o", "--quiet"])
    with pytest.raises(SystemExit) as caught:
        cli.main()
    assert caught.value.code == 2
    assert capsys.readouterr().err.strip() == message


def test_a_parquet_id_column_of_whole_numbers_is_read_as_text_alike(tmp_path: Path) -> None:
    path = tmp_path / "ids.parquet"
    ids = pa.array([1, 2, 2], pa.int32())
    pq.write_table(pa.table({"episode_id": ids, "assessed_on": ["2024-03-04"] * 3}), path)
    results = {}
    for engine in ("python", "duckdb"):
        run_audit(path, tmp_path / engine, engine=engine)  # type: ignore[arg-type]
        results[engine] = (tmp_path / engine / "rejects.csv").read_text(encoding="utf-8")
    assert results["python"] == results["duckdb"]
    assert "2,2,episode_id: is not unique" in results["python"]


@pytest.mark.spark
def test_spark_gives_the_same_exit_code_and_message(tmp_path: Path, spark: Any) -> None:
    for case, (write, message) in CASES.items():
        folder = tmp_path / case
        folder.mkdir()
        assert outcome(write(folder), folder / "out", "spark", spark) == (2, message), case
