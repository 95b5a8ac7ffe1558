"""`benchmarks/cds_parts_instructions.py` without valgrind: the process it counts calls every
part it lists, the patient-view answer's own parts among them (stop 40: `cards_assessment` and
the kept card's `cards_response`, which the call runs in place of `assess_for_cards` and
`decision_card`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import cds_parts_instructions as parts  # noqa: E402

ROOT = Path(__file__).parents[2]


def test_the_counted_process_calls_each_part_the_call_runs() -> None:
    assert {"cards_assessment", "cards_response", "merged_record"} <= set(parts.PARTS)
    code = parts._CALLER.format(bench=str(ROOT / "benchmarks"))
    done = subprocess.run(
        [sys.executable, "-c", code, "1", ",".join(parts.PARTS)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-800:]
