"""Seconds each test file took in a run, for the order the suite is handed out in
(`tests/conftest.py`).

Rewrite the list from the log of a whole run that lists every test's seconds::

    make test DURATIONS=0 > /tmp/suite.log 2>&1
    .venv/bin/python -m tests.module_seconds /tmp/suite.log

Each file's seconds are the sum of its tests' setup, call and teardown as pytest reports them.
Only the order matters, so a stale figure costs time, never a test.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

SECONDS_FILE = Path(__file__).with_name("module_seconds.json")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s (?:setup|call|teardown)\s+(\S+?\.py)::")


def load_module_seconds(path: Path = SECONDS_FILE) -> dict[str, float]:
    """The seconds of each listed test file, by its path from the repository's root."""
    if not path.exists():
        return {}
    return {str(k): float(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def seconds_from_durations(log: str) -> dict[str, float]:
    """Each file's seconds summed from the ``--durations`` lines of a pytest log."""
    total: dict[str, float] = defaultdict(float)
    for line in log.splitlines():
        match = _DURATION.match(line.strip())
        if match:
            total[match.group(2)] += float(match.group(1))
    return dict(total)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.module_seconds <log of a pytest run with --durations=0>")
        return 2
    seconds = seconds_from_durations(Path(argv[0]).read_text(encoding="utf-8"))
    if not seconds:
        print(f"{argv[0]}: no --durations=0 lines found", file=sys.stderr)
        return 1
    # Files of a second or more, longest first, whole seconds: the rest run after, unordered.
    kept = {f: round(s) for f, s in sorted(seconds.items(), key=lambda kv: -kv[1]) if s >= 1}
    SECONDS_FILE.write_text(json.dumps(kept, indent=1) + "\n", encoding="utf-8")
    print(f"{SECONDS_FILE}: {len(kept)} files, {sum(kept.values())} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
