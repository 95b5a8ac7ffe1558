"""earlypath synth and earlypath audit, end to end through the CLI (a subprocess, as a user runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

CLI = [sys.executable, "-c", "from earlypath.cli import main; main()"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "cohort.csv"
    done = run("synth", "--n", "3000", "--seed", "9", "--format", "csv", "--out", str(path))
    assert done.returncode == 0, done.stderr
    return path


def test_audit_on_duckdb_writes_the_four_outputs_and_reconciles(
    cohort: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = run("audit", str(cohort), "--out", str(out), "--group-by", "deprivation_quintile")
    assert done.returncode == 0, done.stderr
    assert "rows_in 3000 = evaluated" in done.stdout
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "cases-eligible-not-offered.csv",
        "episodes.parquet",
        "manifest.json",
        "measure-report.json",
        "rejects.csv",
        "report.html",
        "summary.json",
    ]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rec = summary["reconciliation"]
    assert rec["rows_in"] == rec["evaluated"] + rec["rejected"] == 3000
    columns = pq.read_schema(out / "episodes.parquet").names
    for name in (
        "episode_id",
        "decision",
        "recommendations",
        "missing",
        "adherence",
        "guideline_version",
        "site",
        "deprivation_quintile",
    ):
        assert name in columns


def test_python_engine_gives_the_same_episodes(cohort: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "duck", tmp_path / "py"
    assert run("audit", str(cohort), "--out", str(a), "--quiet").returncode == 0
    assert run("audit", str(cohort), "--out", str(b), "--engine", "python").returncode == 0
    keep = [
        "episode_id",
        "decision",
        "recommendations",
        "missing",
        "adherence",
        "guideline_version",
    ]
    assert (
        pq.read_table(a / "episodes.parquet").select(keep).to_pylist()
        == pq.read_table(b / "episodes.parquet").select(keep).to_pylist()
    )
    assert (a / "rejects.csv").read_text().splitlines()[0] == "row_number,episode_id,reason"


def test_parquet_and_seeded_synth(tmp_path: Path) -> None:
    one, two = tmp_path / "1.parquet", tmp_path / "2.parquet"
    for path in (one, two):
        assert (
            run(
                "synth", "--n", "500", "--seed", "4", "--format", "parquet", "--out", str(path)
            ).returncode
            == 0
        )
    assert one.read_bytes() == two.read_bytes()
    assert run("audit", str(one), "--out", str(tmp_path / "o")).returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "oracle"], "--engine"),
        (["--stop-at", "17+0"], "--stop-at"),
        (["--group-by", "shoe_size"], "shoe_size"),
    ],
)
def test_bad_options_exit_2(cohort: Path, tmp_path: Path, args: list[str], message: str) -> None:
    done = run("audit", str(cohort), "--out", str(tmp_path / "o"), *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_missing_input_exits_2(tmp_path: Path) -> None:
    done = run("audit", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_stop_at_policy_reaches_the_batch_engine(tmp_path: Path) -> None:
    # Two women at 16+3 by LMP with bleeding, a scan-confirmed IUP and a previous miscarriage.
    header = (
        "episode_id,assessed_on,previous_miscarriages,vaginal_bleeding,lmp,scan_date,scan_location"
    )
    rows = [f"e{i},2024-05-01,1,true,2024-01-07,2024-05-01,intrauterine" for i in range(2)]
    cohort = tmp_path / "c.csv"
    cohort.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    decisions = {}
    for stop_at in ("16+0", "16+6"):
        out = tmp_path / stop_at
        assert run("audit", str(cohort), "--out", str(out), "--stop-at", stop_at).returncode == 0
        decisions[stop_at] = set(pq.read_table(out / "episodes.parquet")["decision"].to_pylist())
    assert decisions == {"16+0": {"do_not_offer"}, "16+6": {"offer"}}
