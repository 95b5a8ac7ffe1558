"""`benchmarks/cds_cache_sim.py` without valgrind: its switch compiles and does nothing outside
valgrind, the process it simulates reads the record, and callgrind's totals are divided by the
calls counted."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import cds_cache_sim as sim  # noqa: E402

ROOT = Path(__file__).parents[2]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the switch")
def test_the_simulated_process_runs_outside_valgrind(tmp_path: Path) -> None:
    if not Path("/usr/include/valgrind/callgrind.h").exists():
        pytest.skip("valgrind's headers (the Debian package valgrind) are not installed")
    switch = sim.build_switch(tmp_path)
    env = sim.environment(ROOT, switch, None, native=False)
    done = subprocess.run(
        [sys.executable, "-c", sim.CALLER, "1", "reading"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-800:]


def test_totals_are_divided_by_the_calls_counted() -> None:
    text = "events: Ir I1mr\nfn=x\n1 10 1\nsummary: 4000 300\n"
    assert sim.per_call(text, 20) == {"Ir": 200, "I1mr": 15}
    with pytest.raises(SystemExit):
        sim.per_call("fn=x\n", 20)
