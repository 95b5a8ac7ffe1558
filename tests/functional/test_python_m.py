"""`python -m earlypath` is the `earlypath` command (used to profile start-up with -X importtime)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "earlypath"
ELIGIBLE = Path(__file__).resolve().parents[2] / "earlypath" / "examples" / "01-eligible-offer.json"


def test_python_m_earlypath_is_the_command() -> None:
    by_module = subprocess.run(
        [sys.executable, "-m", "earlypath", "assess", str(ELIGIBLE)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    by_script = subprocess.run(
        [str(BIN), "assess", str(ELIGIBLE)], capture_output=True, timeout=60, check=False
    )
    assert by_module.returncode == 0, by_module.stderr
    assert by_module.stdout == by_script.stdout
    assert b'"decision":"offer"' in by_module.stdout
