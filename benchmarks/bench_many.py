"""`earlypath assess --many` (the CLI batch) against a JSON read-and-write loop over the same
lines, both measured in this run: CPU microseconds per episode and the ratio (issue 16 goal: at
most 8x the loop).

The baseline is the least any line-by-line JSON tool pays: a Python process that reads each line,
`json.loads` it, `json.dumps` it back and writes it. Both are whole processes (start-up included)
timed by the operating system's accounting of the child (user + system CPU); they run in turn,
the ratio is taken pair by pair and the median printed.

Start-up is printed next to it: the CPU of the same two processes on a one-line file (median
of the repeats), and the per-episode figure with that start-up taken off, so a reader sees
how much of the batch's figure is the fixed cost of starting (imports, building the rules).

The default is 50,000 episodes (the figure the README's speed table and docs/speed-assess.md
quote); the issue's table measured 100,000: ``--episodes 100000``.

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
    parser.add_argument(
        "--episodes", type=int, default=50000, help="50,000 (the README's figure); issue: 100,000"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.episodes < 1 or args.repeats < 1:
        parser.error("--episodes and --repeats must be at least 1")
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
        one = Path(tmp) / "one.jsonl"
        one.write_text(texts[0] + "\n", encoding="utf-8")
        many_start: list[float] = []
        loop_start: list[float] = []
        for _ in range(args.repeats):
            many_start.append(cpu_seconds([str(BIN), "assess", "--many", str(one)], out)[0])
            loop_start.append(cpu_seconds([sys.executable, "-c", JSON_LOOP, str(one)], out)[0])
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
    start, base_start = statistics.median(many_start), statistics.median(loop_start)
    print(
        f"start-up (a 1-line file, CPU): earlypath {start * 1e3:.0f} ms, "
        f"loop {base_start * 1e3:.0f} ms; "
        f"= {start / args.episodes * 1e6:.1f} us of each episode's figure above"
    )
    print(
        "  without start-up: earlypath "
        f"{statistics.median(many) - start / args.episodes * 1e6:.1f} us, loop "
        f"{statistics.median(loop) - base_start / args.episodes * 1e6:.1f} us per episode"
    )
    print(f"goal: at most 8x the loop; now {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
