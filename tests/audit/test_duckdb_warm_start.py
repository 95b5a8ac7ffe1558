"""A DuckDB audit whose SQL is all kept runs on plain DuckDB and never imports ibis, pyarrow,
NumPy or pydantic (issue 16: start-up), with the same outputs as a run that built its SQL; a
damaged plan, a changed rule or a changed policy is built again.

Each audit runs in a fresh process (this one has imported ibis already)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import earlypath

ROOT = Path(earlypath.__file__).resolve().parent.parent
HEADER = (
    "episode_id,assessed_on,previous_miscarriages,vaginal_bleeding,lmp,scan_date,"
    "scan_location,fetal_pole,fetal_heartbeat,crl_mm,progesterone_prescribed,site"
)
OFFER = "2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,9.5,false,A"
UNKNOWN = "2024-03-04,,true,2024-01-15,,intrauterine,true,true,,false,"
SAME_BYTES = ("episodes.parquet", "rejects.csv", "cases-eligible-not-offered.csv")
# What differs from run to run in summary.json: the clock
RUN_BOUND = ("generated_at", "seconds", "timings_seconds")

# What a warm audit must not import (each costs 0.05-0.2 s of start-up): ibis builds the SQL,
# pyarrow and NumPy were used to read the written file back, pydantic is the episode contract.
# The rules' own modules (0.015 s) are not needed either: the summary reads the versions' dates.
# typer (about 0.05 s) is the CLI app's: a plain `earlypath audit` line runs without it. The
# `duckdb` package's Python layers and its metadata read (0.11 s) are not needed either: the
# audit uses DuckDB's compiled module (`sql_table.duckdb_engine`).
HEAVY = (
    *("ibis", "pyarrow", "numpy", "pydantic", "pandas", "earlypath.rules", "typer"),
    *("duckdb", "importlib.metadata"),
)
AUDIT = f"""
import sys
from pathlib import Path
from earlypath.audit.run import run_audit
run_audit(Path(sys.argv[1]), Path(sys.argv[2]), group_by=["site"])
heavy = [m for m in {HEAVY!r} if m in sys.modules]
print("ibis imported" if "ibis" in sys.modules else "no ibis", *heavy)
"""
WARM = "no ibis"  # and none of the other heavy modules


def _audit(source: Path, out: Path, plans: str, root: Path = ROOT) -> str:
    env = {**os.environ, "PYTHONPATH": str(root), "EARLYPATH_PLAN_CACHE": plans}
    done = subprocess.run(
        [sys.executable, "-c", AUDIT, str(source), str(out)],
        env=env,
        cwd=root,  # ("-c" puts the working folder first on the path: the code under test)
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _cohort(path: Path, ids: list[str]) -> Path:
    rows = [f"{i}," + (UNKNOWN if n % 3 == 2 else OFFER) for n, i in enumerate(ids)]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _summary(out: Path) -> dict:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {k: v for k, v in summary.items() if k not in RUN_BOUND}


def _same_outputs(a: Path, b: Path) -> None:
    for name in SAME_BYTES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _summary(a) == _summary(b)


@pytest.mark.parametrize(
    "ids",
    [
        ["e1", "e2", "e2", "e3", "", "e4", "e5"],  # a few repeated ids: a list in the SQL
        [f"r{n // 2}" for n in range(140)] + ["e1", "e2"],  # many: a table joined
    ],
    ids=["few-repeated-ids", "many-repeated-ids"],
)
def test_a_warm_audit_imports_no_ibis_and_writes_the_same(tmp_path: Path, ids: list[str]) -> None:
    source = _cohort(tmp_path / "c.csv", ids)
    plans = str(tmp_path / "plans")
    cold = _audit(source, tmp_path / "cold", plans)
    assert cold.startswith("ibis imported")  # the plans are built
    assert _audit(source, tmp_path / "warm", plans) == WARM
    assert _audit(source, tmp_path / "unkept", "off").startswith("ibis imported")
    _same_outputs(tmp_path / "cold", tmp_path / "warm")
    _same_outputs(tmp_path / "cold", tmp_path / "unkept")


def test_a_damaged_or_missing_plan_is_built_again(tmp_path: Path) -> None:
    source = _cohort(tmp_path / "c.csv", ["e1", "e1", "e2", "e3"])
    plans = tmp_path / "plans"
    _audit(source, tmp_path / "cold", str(plans))
    kept = sorted(plans.glob("*.json"))
    assert len(kept) == 2  # the repeated ids' SQL; the checks' and the rules'
    for path in kept:
        path.write_text('{"repeated": 1, "checked": 1}', encoding="utf-8")
    assert _audit(source, tmp_path / "damaged", str(plans)).startswith("ibis imported")
    _same_outputs(tmp_path / "cold", tmp_path / "damaged")
    assert _audit(source, tmp_path / "mended", str(plans)) == WARM
    _same_outputs(tmp_path / "cold", tmp_path / "mended")
    # Another column (its type is part of the key): built again, not the kept SQL of the other
    lines = source.read_text(encoding="utf-8").splitlines()
    source.write_text("".join(line + ",ward\n" for line in lines), encoding="utf-8")
    assert _audit(source, tmp_path / "ward", str(plans)).startswith("ibis imported")


def _decisions(out: Path) -> list[tuple[str, str]]:
    import duckdb

    sql = "SELECT episode_id, decision FROM read_parquet(?) ORDER BY row_number"
    return duckdb.connect().execute(sql, [str(out / "episodes.parquet")]).fetchall()


def test_a_changed_rule_is_built_again_not_taken_from_the_kept_plan(tmp_path: Path) -> None:
    # The plan's key covers the package's source: a copy whose progesterone rule asks for two
    # previous miscarriages (not one) must build its SQL again and judge by the changed rule.
    source = _cohort(tmp_path / "c.csv", ["e1", "e2", "e3"])
    plans = str(tmp_path / "plans")
    _audit(source, tmp_path / "cold", plans)
    assert _audit(source, tmp_path / "warm", plans) == WARM
    changed = tmp_path / "changed"
    shutil.copytree(
        ROOT / "earlypath", changed / "earlypath", ignore=shutil.ignore_patterns("__pycache__")
    )
    rules = changed / "earlypath" / "guideline" / "progesterone.py"
    text = rules.read_text(encoding="utf-8")
    assert text.count("PREVIOUS_MISCARRIAGES.ge(1),") == 1
    rules.write_text(text.replace("PREVIOUS_MISCARRIAGES.ge(1),", "PREVIOUS_MISCARRIAGES.ge(2),"))
    assert _audit(source, tmp_path / "rule", plans, root=changed).startswith("ibis imported")
    assert _decisions(tmp_path / "warm")[0] == ("e1", "offer")  # one previous miscarriage
    assert _decisions(tmp_path / "rule")[0] == ("e1", "do_not_offer")
    # and the unchanged code still finds its own plan, kept beside the changed one's
    assert _audit(source, tmp_path / "again", plans) == WARM
    _same_outputs(tmp_path / "cold", tmp_path / "again")


# The `earlypath audit` command, as a shell runs it (`earlypath.cli.main`): a plain command line
# is run without typer's parsing, which imports pydantic for its coercion (0.13 s).
CLI_AUDIT = f"""
import atexit
import sys
atexit.register(lambda: print(*[m for m in {HEAVY!r} if m in sys.modules] or ["none"]))
from earlypath.cli import main
main()
"""


def _cli_audit(args: list[str], plans: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EARLYPATH_PLAN_CACHE": plans}
    return subprocess.run(
        [sys.executable, "-c", CLI_AUDIT, "audit", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_warm_audit_through_the_command_line_imports_no_pydantic(tmp_path: Path) -> None:
    source = _cohort(tmp_path / "c.csv", ["e1", "e2", "e2", "e3"])
    plans = str(tmp_path / "plans")
    _audit(source, tmp_path / "in-process", plans)  # keeps the plans
    args = [str(source), "--out", str(tmp_path / "cli"), "--group-by=site", "--quiet"]
    done = _cli_audit(args, plans)
    assert done.returncode == 0, done.stderr
    # No ibis, pyarrow, NumPy, pydantic, pandas, and (the app built lazily) no typer at all
    assert done.stdout.splitlines()[-1] == "none"
    assert done.stdout.startswith("rows_in 4 = evaluated 2 + rejected 2 (duckdb, ")
    _same_outputs(tmp_path / "in-process", tmp_path / "cli")


def test_an_odd_audit_command_line_is_still_typer_s(tmp_path: Path) -> None:
    # Not plain (a negative count): typer parses it, with its own words and exit code 2.
    source = _cohort(tmp_path / "c.csv", ["e1"])
    args = [str(source), "--out", str(tmp_path / "cli"), "--suppress-below", "-1"]
    done = _cli_audit(args, str(tmp_path / "plans"))
    assert done.returncode == 2
    assert done.stderr.startswith("Usage: ")  # typer's own error
    assert "pydantic" in done.stdout  # typer's parsing did it
    assert not (tmp_path / "cli").exists()
