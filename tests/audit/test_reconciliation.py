"""Nothing lost: every input row ends in episodes.parquet or rejects.csv, with its number and reason."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from earlypath.audit import pass_duckdb
from earlypath.audit import run as run_module
from earlypath.audit.run import ReconciliationError, run_audit

HEADER = (
    "episode_id,assessed_on,previous_miscarriages,vaginal_bleeding,lmp,scan_date,"
    "scan_location,fetal_pole,fetal_heartbeat,crl_mm,progesterone_prescribed,site"
)
ROWS = [
    "e1,2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,9.5,true,A",  # offer, offered
    "e2,2024-02-30,1,true,,,,,,,,A",  # bad date
    "e3,2024-03-04,1,true,,,,,,,false,B",  # duplicate id (with the next)
    "e3,2024-03-05,0,false,,,,,,,false,B",
    "e5,2024-03-04,-2,true,,,,,,,,B",  # impossible count
    "e6,2024-03-04,1,true,2024-03-09,,,,,,,A",  # LMP after assessed_on
    "e7,2024-03-04,1,true,,2024-03-04,intrauterine,false,,130,,A",  # CRL > 120 and without pole
    "e8,2018-06-01,1,true,,,,,,,,A",  # before NG126
    ",2024-03-04,1,true,,,,,,,,A",  # no id
    "e10,2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,9.5,false,B",  # not offered
    "e11,2020-03-04,1,true,2020-01-15,2020-03-04,intrauterine,true,true,9.5,true,B",  # 2019 text
    "e12,2024-03-04,,true,,,,,,,,A",  # undecidable
]
EXPECTED_REJECTS = {
    2: "assessed_on: is not a date",
    3: "episode_id: is not unique",
    4: "episode_id: is not unique",
    5: "previous_miscarriages: must be between 0 and 50",
    6: "lmp: is after assessed_on",
    7: "crl_mm: must be between 0 and 120 mm",
    8: "assessed_on: is before NG126",
    9: "episode_id: is required",
}


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    path = tmp_path / "cohort.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_every_row_lands_once_with_its_number_and_reason(
    cohort: Path, tmp_path: Path, engine: str
) -> None:
    out = tmp_path / engine
    result = run_audit(cohort, out, engine=engine)  # type: ignore[arg-type]
    assert (result.rows_in, result.evaluated, result.rejected) == (12, 4, 8)
    with open(out / "rejects.csv", encoding="utf-8") as f:
        rejects = {int(r["row_number"]): r["reason"] for r in csv.DictReader(f)}
    assert set(rejects) == set(EXPECTED_REJECTS)
    for number, reason in EXPECTED_REJECTS.items():
        # The SQL messages are checked in full; the reference path words some as pydantic does.
        wanted = reason if engine == "duckdb" else reason.split(":")[0] + ":"
        assert wanted in rejects[number], (number, rejects[number])
    episodes = pq.read_table(out / "episodes.parquet").to_pylist()
    assert [e["row_number"] for e in episodes] == [1, 10, 11, 12]
    assert [e["adherence"] for e in episodes] == [
        "offered",
        "not_offered",
        "given_outside_guideline",
        "undecidable",
    ]
    assert [e["guideline_version"] for e in episodes] == [
        "2023-08-23",
        "2023-08-23",
        "2019-04-17",
        "2023-08-23",
    ]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["reconciliation"] == {
        "rows_in": 12,
        "evaluated": 4,
        "rejected": 8,
        "balanced": True,
    }
    # No row-level data in the report (episode ids), outside the plots' drawing code.
    page = re.sub(
        r"<svg.*?</svg>", "", (out / "report.html").read_text(encoding="utf-8"), flags=re.S
    )
    assert not re.search(r"\be1[0-2]?\b", page)


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_missing_ids_are_required_not_repeated(tmp_path: Path, engine: str) -> None:
    # Two rows without an id (one only spaces) must not make each other "not unique", and must
    # not disturb the duplicate check of the rows that have ids.
    rows = [
        ",2024-03-04,1,true,,,,,,,,A",
        "   ,2024-03-04,1,true,,,,,,,,A",
        "d1,2024-03-04,1,true,,,,,,,,A",
        " d1 ,2024-03-05,1,true,,,,,,,,A",
        "d2,2024-03-04,1,true,,,,,,,,A",
    ]
    path = tmp_path / "ids.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = run_audit(path, tmp_path / engine, engine=engine)  # type: ignore[arg-type]
    assert (result.rows_in, result.evaluated, result.rejected) == (5, 1, 4)
    with open(tmp_path / engine / "rejects.csv", encoding="utf-8") as f:
        rejects = {int(r["row_number"]): r["reason"] for r in csv.DictReader(f)}
    assert rejects == {
        1: "episode_id: is required",
        2: "episode_id: is required",
        3: "episode_id: is not unique",
        4: "episode_id: is not unique",
    }


def test_a_lost_row_fails_loudly_and_writes_nothing(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = run_module.evaluate

    def losing(*args, **kwargs):  # type: ignore[no-untyped-def]
        ev = real(*args, **kwargs)
        ev.episodes = ev.episodes.filter(ev.episodes.row_number != 1)
        return ev

    monkeypatch.setattr(run_module, "evaluate", losing)
    out = tmp_path / "out"
    with pytest.raises(ReconciliationError, match="rows_in 12 != evaluated 3 \\+ rejected 8"):
        run_audit(cohort, out)
    assert not out.exists() or not any(out.iterdir())


def test_a_crash_while_writing_leaves_no_half_file(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    run_audit(cohort, out)
    before = (out / "episodes.parquet").read_bytes()

    def interrupted(con: object, expr: object, target: Path) -> None:
        target.write_bytes(b"PAR1 half a file")  # DuckDB was part-way through the COPY
        raise KeyboardInterrupt

    monkeypatch.setattr(pass_duckdb, "copy_to_parquet", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_audit(cohort, out)
    assert (out / "episodes.parquet").read_bytes() == before  # the old file, whole
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".earlypath-lock", "manifest.json", *run_module.OUTPUTS]
    )


def test_a_cohort_without_assessed_on_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("episode_id,site\ne1,A\n", encoding="utf-8")
    with pytest.raises(ValueError, match="assessed_on"):
        run_audit(path, tmp_path / "out")


@pytest.mark.spark
def test_spark_reads_csv_and_numbers_rows_in_file_order(
    cohort: Path, tmp_path: Path, spark: object
) -> None:
    duck = run_audit(cohort, tmp_path / "d")
    sp = run_audit(cohort, tmp_path / "s", engine="spark", spark=spark)
    assert (sp.rows_in, sp.evaluated, sp.rejected) == (duck.rows_in, duck.evaluated, duck.rejected)
    assert (tmp_path / "s" / "rejects.csv").read_text() == (
        tmp_path / "d" / "rejects.csv"
    ).read_text()
    assert (
        pq.read_table(tmp_path / "s" / "episodes.parquet").to_pylist()
        == pq.read_table(tmp_path / "d" / "episodes.parquet").to_pylist()
    )


@pytest.mark.spark
def test_spark_reads_quoted_csv_fields_as_duckdb_does(tmp_path: Path, spark: object) -> None:
    # RFC 4180 quoting: a field may hold commas, line breaks and doubled quotes. Spark's CSV
    # reader needs telling (multiLine, escape); otherwise rows split and the engines disagree.
    path = tmp_path / "q.csv"
    path.write_text(
        HEADER
        + ",note\n"
        + ROWS[0]
        + ',"seen twice, then\nreferred ""urgently"""\n'
        + ROWS[9]
        + ',"plain"\n'
        + ROWS[11]
        + ',"a\r\nb"\n',
        encoding="utf-8",
    )
    duck = run_audit(path, tmp_path / "d", group_by=["note"])
    sp = run_audit(path, tmp_path / "s", engine="spark", spark=spark, group_by=["note"])
    assert (duck.rows_in, duck.evaluated) == (3, 3)
    assert (sp.rows_in, sp.evaluated, sp.rejected) == (3, 3, 0)
    episodes = pq.read_table(tmp_path / "s" / "episodes.parquet").to_pylist()
    assert episodes == pq.read_table(tmp_path / "d" / "episodes.parquet").to_pylist()
    assert episodes[0]["note"] == 'seen twice, then\nreferred "urgently"'


def test_an_unreadable_csv_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        'episode_id,assessed_on\ne1,2024-03-04\n"e2,2024-03-04,secret-name,extra\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as caught:
        run_audit(path, tmp_path / "out")
    assert "secret-name" not in str(caught.value)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_column_named_like_one_the_audit_adds_is_refused_by_name(
    tmp_path: Path, suffix: str, engine: str
) -> None:
    import pyarrow as pa

    from earlypath.errors import InputError

    columns = {
        "episode_id": ["e1"],
        "assessed_on": ["2024-03-04"],
        "row_number": ["7"],
        "Decision": ["offer"],  # column names match whatever their case
        "_RULE_3": ["x"],
        "ward": ["B"],
    }
    path = tmp_path / f"c{suffix}"
    if suffix == ".csv":
        path.write_text(",".join(columns) + "\n" + ",".join(v[0] for v in columns.values()) + "\n")
    else:
        pq.write_table(pa.table(columns), path)
    with pytest.raises(InputError) as caught:
        run_audit(path, tmp_path / "out", engine=engine)  # type: ignore[arg-type]
    assert [p.field for p in caught.value.problems] == ["row_number", "Decision", "_RULE_3"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["ward[1]", "ward*", "a?b", "x{1,2}"])
def test_a_path_the_engines_would_read_as_a_pattern_is_refused(tmp_path: Path, name: str) -> None:
    # DuckDB and Spark read * ? [ ] { } in a file's path as a wildcard, even in a list of paths:
    # another file's rows could be read in its place (or as well), and still reconcile.
    folder = tmp_path / name
    folder.mkdir()
    (folder / "c.csv").write_text("\n".join([HEADER, *ROWS[:2]]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="would read as a pattern"):
        run_audit(folder / "c.csv", tmp_path / "out")
    with pytest.raises(ValueError, match="would read as a pattern"):
        run_audit(folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_flat_column_in_another_case_or_a_rowid_column_is_refused(
    tmp_path: Path, engine: str
) -> None:
    from earlypath.errors import InputError

    path = tmp_path / "c.csv"
    path.write_text(
        "episode_id,assessed_on,Vaginal_Bleeding,ROWID\ne1,2024-03-04,true,1\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as caught:
        run_audit(path, tmp_path / "out", engine=engine)  # type: ignore[arg-type]
    assert {p.field: p.message for p in caught.value.problems} == {
        "Vaginal_Bleeding": "is vaginal_bleeding written in another case: rename it",
        "ROWID": "is a name the engines keep for their own row ids: rename it",
    }


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_cohort_with_every_row_rejected_still_gets_its_report(
    tmp_path: Path, engine: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("\n".join([HEADER, ROWS[1], ROWS[4]]) + "\n", encoding="utf-8")
    result = run_audit(path, tmp_path / "out", engine=engine)  # type: ignore[arg-type]
    assert (result.rows_in, result.evaluated, result.rejected) == (2, 0, 2)
    assert "Data quality" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert pq.read_table(tmp_path / "out" / "episodes.parquet").num_rows == 0


def test_a_failure_after_some_outputs_are_written_leaves_the_previous_run_whole(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    run_audit(cohort, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    smaller = tmp_path / "smaller.csv"
    smaller.write_text("\n".join([HEADER, *ROWS[:3]]) + "\n", encoding="utf-8")

    def broken(summary: dict) -> str:  # episodes, rejects and the summary are written by now
        raise RuntimeError("the report could not be drawn")

    import earlypath.audit.report as report_module

    monkeypatch.setattr(report_module, "render_report", broken)
    with pytest.raises(RuntimeError):
        run_audit(smaller, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no mix, no leftovers


def test_a_fhir_folder_whose_path_reads_as_a_pattern_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "export[2024]"
    folder.mkdir()
    (folder / "Encounter.ndjson").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="would read as a pattern"):
        run_audit(folder, tmp_path / "out")
