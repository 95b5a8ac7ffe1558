"""`earlypath assess --many` (the CLI batch) against a JSON read-and-write loop over the same
lines, both measured in this run: CPU microseconds per episode and the ratio (issue 16 goal: at
most 8x the loop).

The baseline is the least any line-by-line JSON tool pays: a Python process that reads each line,
`json.loads` it, `json.dumps` it back and writes it. Both are whole processes (start-up included)
timed by the operating system's accounting of the child (user + system CPU); they run in turn,
the ratio is taken pair by pair and the median printed.

    .venv/bin/python benchmarks/bench_many.py [--episodes 50000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_assess import generate  # noqa: E402

BIN = Path(sys.executable).parent / "earlypath"
JSON_LOOP = """
import json, sys
out = sys.stdout
with open(sys.argv[1], encoding="utf-8") as lines:
    for line in lines:
        if line.strip():
            out.write(json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":")) + "\\n")
"""


def cpu_seconds(command: list[str], out: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of ``command`` writing its stdout to ``out``."""
    with out.open("wb") as sink:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=sink)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command[0]} failed with exit code {process.returncode}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=50000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = generate(args.episodes)
    many: list[float] = []
    loop: list[float] = []
    ratios: list[float] = []
    walls: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "episodes.jsonl"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8")
        out = Path(tmp) / "out.jsonl"
        for _ in range(args.repeats):
            cli, wall = cpu_seconds([str(BIN), "assess", "--many", str(path)], out)
            with out.open("rb") as written:
                assert sum(1 for _ in written) == args.episodes
            base, _ = cpu_seconds([sys.executable, "-c", JSON_LOOP, str(path)], out)
            many.append(cli / args.episodes * 1e6)
            loop.append(base / args.episodes * 1e6)
            ratios.append(cli / base)
            walls.append(wall)
    print(
        f"CLI batch, {args.episodes} generated episodes (seeded), {args.repeats} pairs; "
        "CPU us per episode (whole process, start-up included), median of pairs"
    )
    print(f"  JSON read-and-write loop (baseline) {statistics.median(loop):8.1f} us    1.0 x loop")
    print(
        f"  earlypath assess --many             {statistics.median(many):8.1f} us  "
        f"{statistics.median(ratios):5.1f} x loop   "
        f"({args.episodes / statistics.median(walls):,.0f} episodes/s wall)"
    )
    print(f"goal: at most 8x the loop; now {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
