"""Instructions per assessment and per line of `earlypath assess --many`, counted by valgrind,
each beside its baseline counted the same way (issue 16): a ratio the machine's load does not
move, for an A/B of two checkouts (``--before``) on a shared machine.

Run: .venv/bin/python benchmarks/assess_instructions.py [--before CHECKOUT] [--episodes 2000]
                                                        [--lines 20000]

- ``assess``: one process generates ``--episodes`` of `bench_assess.py`'s episodes, assesses
  each once (every key met, every template kept), then runs the full path (validate +
  `assess_json`) over them once, or not at all; the difference over the episodes is the figure.
  Its baseline: `json.loads` over the same texts, counted alike.
- ``many``: the `earlypath assess --many` process (start-up, warm-up and misses included) over
  ``--lines`` episodes less the same process over one line, per line; its baseline: the JSON
  read-and-write loop of `bench_many.py`, counted alike.

Not named bench_*: `make bench` does not run it (it needs valgrind and a few minutes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import valgrind_count  # noqa: E402
from bench_assess import generate  # noqa: E402
from bench_many import JSON_LOOP  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# The warm full path, or json.loads, over the episodes `passes` times (0 or 1).
_ASSESS = """
import json, sys
sys.path.insert(0, {bench!r})
from bench_assess import generate
from earlypath import parse_episode_json
from earlypath.engines.python import assess_json
texts = generate(int(sys.argv[1]))
passes, which = int(sys.argv[2]), sys.argv[3]
for text in texts:
    assess_json(parse_episode_json(text))
for _ in range(passes):
    if which == "assess":
        for text in texts:
            assess_json(parse_episode_json(text))
    else:
        for text in texts:
            json.loads(text)
"""

# `earlypath assess --many FILE` in-process, as the console script runs it (output to a file).
_MANY = """
import sys
sys.argv = ["earlypath", "assess", "--many", sys.argv[1]]
sys.stdout = open(sys.argv[-1] + ".out", "w")
from earlypath.cli import main
main()
"""


def per_item(
    checkout: Path, code: str, n: int, args: tuple[str, ...], base: tuple[str, ...]
) -> float:
    """(instructions of ``code`` with ``args`` - with ``base``) / n."""
    more = valgrind_count.instructions(checkout, code, *args, label=f"{checkout} {args}")
    less = valgrind_count.instructions(checkout, code, *base, label=f"{checkout} {base}")
    return (more - less) / n


def measure(checkout: Path, episodes: int, lines: int, folder: Path) -> dict[str, float]:
    code = _ASSESS.format(bench=str(ROOT / "benchmarks"))
    n = str(episodes)
    out: dict[str, float] = {}
    if episodes:
        out["assess"] = per_item(checkout, code, episodes, (n, "1", "assess"), (n, "0", "assess"))
        out["json.loads"] = per_item(checkout, code, episodes, (n, "1", "loads"), (n, "0", "loads"))
    if lines:
        texts = generate(lines)
        many, one = folder / "many.jsonl", folder / "one.jsonl"
        many.write_text("\n".join(texts) + "\n", encoding="utf-8")
        one.write_text(texts[0] + "\n", encoding="utf-8")
        out["many"] = per_item(checkout, _MANY, lines - 1, (str(many),), (str(one),))
        out["loop"] = per_item(checkout, JSON_LOOP, lines - 1, (str(many),), (str(one),))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, help="another checkout, counted the same way")
    parser.add_argument("--episodes", type=int, default=2000, help="0: no warm assessment")
    parser.add_argument("--lines", type=int, default=20000, help="0: no CLI batch")
    args = parser.parse_args()
    valgrind_count.require_valgrind()
    sides = [("before", args.before)] if args.before else []
    sides.append(("this checkout", ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        for name, checkout in sides:
            got = measure(checkout.resolve(), args.episodes, args.lines, Path(tmp))
            print(f"{name} ({checkout}):")
            if "assess" in got:
                print(
                    f"  assessment (validate + assess_json, warm): {got['assess']:,.0f} "
                    f"instructions, {got['assess'] / got['json.loads']:.2f} x json.loads "
                    f"({got['json.loads']:,.0f})"
                )
            if "many" in got:
                print(
                    f"  assess --many, per line: {got['many']:,.0f} instructions, "
                    f"{got['many'] / got['loop']:.2f} x the JSON loop ({got['loop']:,.0f})"
                )


if __name__ == "__main__":
    main()
