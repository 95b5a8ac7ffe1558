"""Instructions a Python process runs, counted by valgrind: the one set-up the instruction
benchmarks share (`cds_instructions.py`, `cds_reading_instructions.py`,
`cds_parts_instructions.py`).

A figure is the difference of two processes that differ only in how many times they call the
part measured, so start-up and imports cancel out. Each process runs under `valgrind
--tool=cachegrind --cache-sim=no` (instructions only) with a fixed hash seed (dict and set
layouts, and so the counts, alike in every run) and without writing bytecode: a process that
compiles a checkout's modules and writes their .pyc would count the compilation once, in
whichever process ran first (a hello-world figure eight times too large, seen in the twelfth
pass). Needs the Debian package `valgrind`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def require_valgrind() -> None:
    """Stop with a clear message when valgrind is not installed."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")


def instructions(checkout: Path, code: str, *args: str, label: str = "") -> int:
    """Instructions valgrind counts for ``python -c code *args`` run in ``checkout`` (on the
    path first). ``label`` names the run in the message when valgrind gives no count."""
    env = {
        **os.environ,
        "PYTHONPATH": str(checkout),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-c",
            code,
            *args,
        ],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        prefix = f"{label}: " if label else ""
        raise SystemExit(f"{prefix}valgrind gave no instruction count: {done.stderr[-800:]}")
    return int(found.group(1).replace(",", ""))
