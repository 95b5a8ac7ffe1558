"""`earlypath assess --many` against one process per episode (the cost --many exists to avoid).

Both are measured in this run on the same generated episodes; prints episodes/second and the ratio.

    .venv/bin/python benchmarks/bench_many.py [--episodes 20000] [--spawned 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_assess import generate  # noqa: E402

BIN = Path(sys.executable).parent / "earlypath"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=20000)
    parser.add_argument("--spawned", type=int, default=20)
    args = parser.parse_args()
    texts = generate(args.episodes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "episodes.jsonl"
        path.write_text("\n".join(texts) + "\n")
        start = time.perf_counter()
        out = subprocess.run(
            [str(BIN), "assess", "--many", str(path)], capture_output=True, check=True
        )
        many_s = time.perf_counter() - start
        assert out.stdout.count(b"\n") == args.episodes
        start = time.perf_counter()
        for text in texts[: args.spawned]:
            subprocess.run(
                [str(BIN), "assess", "-"], input=text.encode(), capture_output=True, check=True
            )
        spawn_s = (time.perf_counter() - start) / args.spawned
    many_rate = args.episodes / many_s
    print(
        f"--many: {args.episodes} episodes in {many_s:.2f} s = {many_rate:,.0f} episodes/s "
        f"({many_s / args.episodes * 1e6:.0f} us each, start-up included)"
    )
    print(
        f"one process per episode (baseline, {args.spawned} runs): {spawn_s * 1000:.0f} ms each "
        f"= {1 / spawn_s:,.1f} episodes/s"
    )
    print(f"ratio: --many is {many_rate * spawn_s:,.0f}x the per-process baseline")


if __name__ == "__main__":
    main()
