"""`earlypath impact` end to end, through the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_VENV_BIN = Path(sys.executable).parent
EARLYPATH = shutil.which("earlypath", path=str(_VENV_BIN)) or shutil.which("earlypath")

pytestmark = pytest.mark.skipif(EARLYPATH is None, reason="earlypath console script not installed")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EARLYPATH), "impact", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_json_reproduces_both_headlines():
    for scenario, output, value in (
        ("nice-2021", "eligible_women", 7200),
        ("coomarasamy-2020", "additional_live_births", 8450),
    ):
        res = run("--scenario", scenario, "--json", "--draws", "1000", "--seed", "5")
        assert res.returncode == 0, res.stderr
        data = json.loads(res.stdout)
        assert data["headline"]["reproduced"] is True
        assert round(data["outputs"][output]["point"]) == value
        low, high = data["outputs"][output]["low"], data["outputs"][output]["high"]
        assert low < value < high


def test_same_seed_same_output():
    a = run("--json", "--draws", "500", "--seed", "11")
    b = run("--json", "--draws", "500", "--seed", "11")
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout


def test_set_and_errors():
    ok = run("--json", "--draws", "200", "--set", "uptake=0.5")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["overrides"] == ["uptake=0.5"]
    bad = run("--set", "upptake=0.5")
    assert bad.returncode == 2
    assert "unknown parameter 'upptake'" in bad.stderr and bad.stdout == ""


def test_table_and_plot(tmp_path):
    plot = tmp_path / "tornado.svg"
    res = run("--draws", "200", "--plot", str(plot), "--trials")
    assert res.returncode == 0, res.stderr
    assert "Headline check" in res.stdout and "reproduces the published 7,200" in res.stdout
    assert "<svg" in plot.read_text()
