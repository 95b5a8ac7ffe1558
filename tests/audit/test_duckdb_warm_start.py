"""A DuckDB audit whose SQL is all kept runs on plain DuckDB and never imports ibis (issue 16:
start-up), with the same outputs as a run that built its SQL; a damaged plan is built again.

Each audit runs in a fresh process (this one has imported ibis already)."""

from __future__ import annotations

import json
import os
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

AUDIT = """
import sys
from pathlib import Path
from earlypath.audit.run import run_audit
run_audit(Path(sys.argv[1]), Path(sys.argv[2]), group_by=["site"])
print("ibis imported" if "ibis" in sys.modules else "no ibis")
"""


def _audit(source: Path, out: Path, plans: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EARLYPATH_PLAN_CACHE": plans}
    done = subprocess.run(
        [sys.executable, "-c", AUDIT, str(source), str(out)],
        env=env,
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
    assert _audit(source, tmp_path / "cold", plans) == "ibis imported"  # the plans are built
    assert _audit(source, tmp_path / "warm", plans) == "no ibis"
    assert _audit(source, tmp_path / "unkept", "off") == "ibis imported"
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
    assert _audit(source, tmp_path / "damaged", str(plans)) == "ibis imported"
    _same_outputs(tmp_path / "cold", tmp_path / "damaged")
    assert _audit(source, tmp_path / "mended", str(plans)) == "no ibis"
    _same_outputs(tmp_path / "cold", tmp_path / "mended")
    # Another column (its type is part of the key): built again, not the kept SQL of the other
    lines = source.read_text(encoding="utf-8").splitlines()
    source.write_text("".join(line + ",ward\n" for line in lines), encoding="utf-8")
    assert _audit(source, tmp_path / "ward", str(plans)) == "ibis imported"
