"""One assessment's stages, each alone in its own loop over `bench_assess.py`'s generated
episodes: CPU microseconds per episode and the ratio to json.loads of the same texts in the same
repeat (median of repeats). The stages are called as `assess_json` calls them (`_read`, the
assessment key function, its lookup in the kept whole assessments, the kept template's fill);
each loop has its own cache misses, so the stages sum to more than `assess_json` alone. The
key function also gives the gestation's two values (`(key, days, CRL days)`), so on the kept
template path `gestation_of` (in `_read` here) is not run.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_assess_stages.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_assess import generate  # noqa: E402

from earlypath import parse_episode_json  # noqa: E402
from earlypath.engines.python import NOT_KEPT, _read, assess_json  # noqa: E402
from earlypath.facts import episode_facts  # noqa: E402
from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY  # noqa: E402
from earlypath.policy import DEFAULT_POLICY  # noqa: E402


def per_item_us(fn: Callable[[Any], Any], items: list[Any]) -> float:
    start = time.process_time()
    for item in items:
        fn(item)
    return (time.process_time() - start) / len(items) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    texts = generate(args.episodes)
    episodes = [parse_episode_json(text) for text in texts]
    for episode in episodes:  # every key met, every template kept
        assess_json(episode)
    reads = [_read(e, DEFAULT_POLICY, DEFAULT_PATHWAY_POLICY) for e in episodes]
    keyed = [(r[5], (r[2], r[5].assessment_key()(r[3])[0])) for r in reads]
    kept = [(parts.whole.get(key), r) for (parts, key), r in zip(keyed, reads, strict=True)]
    filled = [(known, r) for known, r in kept if known is not None and known is not NOT_KEPT]
    stages: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
        "json.loads (baseline)": (json.loads, texts),
        "validation (parse_episode_json)": (parse_episode_json, texts),
        "_read: version, facts, gestation, parts": (
            lambda e: _read(e, DEFAULT_POLICY, DEFAULT_PATHWAY_POLICY),
            episodes,
        ),
        "  facts alone": (episode_facts, episodes),
        "the assessment key": (lambda r: r[5].assessment_key()(r[3]), reads),
        "its lookup": (lambda pk: pk[0].whole.get(pk[1]), keyed),
        "the fill": (lambda kr: kr[0].fill(kr[1][0], kr[1][3], kr[1][4]), filled),
        "assess_json of a validated episode": (assess_json, episodes),
        "full path (validate + assess_json)": (
            lambda text: assess_json(parse_episode_json(text)),
            texts,
        ),
    }
    ratios: dict[str, list[float]] = {name: [] for name in stages}
    us: dict[str, list[float]] = {name: [] for name in stages}
    for _ in range(args.repeats):
        row = {name: per_item_us(fn, items) for name, (fn, items) in stages.items()}
        for name, value in row.items():
            us[name].append(value)
            ratios[name].append(value / row["json.loads (baseline)"])
    print(f"{args.episodes} generated episodes, {args.repeats} repeats, CPU, median")
    for name in stages:
        print(
            f"  {name:42s} {statistics.median(us[name]):7.2f} us "
            f"{statistics.median(ratios[name]):6.2f} x json.loads"
        )


if __name__ == "__main__":
    main()
