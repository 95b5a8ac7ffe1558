"""Instructions per episode of each stage of the warm full assessment, counted by valgrind
(issue 16): where `assess_instructions.py`'s figure goes, for an A/B of checkouts on a shared
machine (a count the load does not move).

Run: .venv/bin/python benchmarks/assess_stage_instructions.py [--before CHECKOUT]
                                                              [--episodes 2000] [STAGE ...]

Stages (each alone, over `bench_assess.py`'s episodes, every key met, every template kept):
``validate`` (`parse_episode_json` of the text), ``facts`` (`episode_facts`), ``key`` (the
assessment key function), ``lookup`` (the kept whole assessments), ``assess_json`` (of a
validated episode: the facts, the key, the lookup, the fill and the rest), ``full`` (validate
+ `assess_json`). A figure is the difference of two processes, one running the stage once
over the episodes and one not at all (`valgrind_count`), over the episodes.

Not named bench_*: `make bench` does not run it (it needs valgrind and some minutes a stage).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import valgrind_count  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("validate", "facts", "key", "lookup", "assess_json", "full")

# Every stage's inputs made (and every template kept) first; then the stage ``passes`` times.
_CODE = """
import sys
sys.path.insert(0, {bench!r})
from bench_assess import generate
from earlypath import parse_episode_json
from earlypath.engines import python as engine
from earlypath.facts import episode_facts
texts = generate(int(sys.argv[1]))
which, passes = sys.argv[2], int(sys.argv[3])
episodes = [parse_episode_json(text) for text in texts]
for episode in episodes:
    engine.assess_json(episode)
reads = []
for episode in episodes:
    version, because = engine.resolve_version(episode.assessed_on, episode.guideline_version)
    parts = engine._parts(version, engine.DEFAULT_POLICY, engine.DEFAULT_PATHWAY_POLICY)
    reads.append((episode_facts(episode), parts, because))
keys = [(parts, (because, parts.assessment_key()(facts)[0])) for facts, parts, because in reads]
for _ in range(passes):
    if which == "validate":
        for text in texts:
            parse_episode_json(text)
    elif which == "facts":
        for episode in episodes:
            episode_facts(episode)
    elif which == "key":
        for facts, parts, _ in reads:
            parts.assessment_key()(facts)
    elif which == "lookup":
        for parts, key in keys:
            parts.whole.get(key)
    elif which == "assess_json":
        for episode in episodes:
            engine.assess_json(episode)
    elif which == "full":
        for text in texts:
            engine.assess_json(parse_episode_json(text))
"""


def stage(checkout: Path, which: str, episodes: int) -> float:
    """Instructions per episode of one stage in ``checkout``."""
    code = _CODE.format(bench=str(ROOT / "benchmarks"))
    n = str(episodes)
    more = valgrind_count.instructions(checkout, code, n, which, "1", label=f"{checkout} {which}")
    less = valgrind_count.instructions(checkout, code, n, which, "0", label=f"{checkout} {which}")
    return (more - less) / episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stages", nargs="*", help=f"of {', '.join(STAGES)} (default: every one)")
    parser.add_argument("--before", type=Path, help="another checkout, counted the same way")
    parser.add_argument("--episodes", type=int, default=2000)
    args = parser.parse_args()
    unknown = [name for name in args.stages if name not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s) {unknown}; known: {', '.join(STAGES)}")
    valgrind_count.require_valgrind()
    sides = [("before", args.before)] if args.before else []
    sides.append(("this checkout", ROOT))
    for name, checkout in sides:
        print(f"{name} ({checkout}), instructions per episode:", flush=True)
        for which in args.stages or STAGES:
            print(
                f"  {which:12s} {stage(checkout.resolve(), which, args.episodes):>9,.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
