"""Microseconds per assessment on the reference engine, over many generated episodes.

Prints the median per assessment (validation + decision + plan + trace), the share spent in
validation, and ratios against a baseline measured in the same run (json.loads of the same
text: the least any JSON service must pay). Target: under 100 microseconds per assessment.

    .venv/bin/python benchmarks/bench_assess.py [--episodes 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time

from earlypath import assess, parse_episode_json


def generate(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        day = dt.date(2019, 5, 1) + dt.timedelta(days=rng.randrange(0, 2700))
        lmp = day - dt.timedelta(days=rng.randrange(30, 130))
        scans = []
        for _ in range(rng.choice([0, 1, 1, 2])):
            scan = {
                "date": (
                    lmp + dt.timedelta(days=rng.randrange(0, (day - lmp).days + 1))
                ).isoformat(),
                "location": rng.choice(["intrauterine", "intrauterine", "unknown", "ectopic"]),
                "fetal_pole": rng.choice([True, False, None]),
            }
            if scan["fetal_pole"]:
                scan["fetal_heartbeat"] = rng.choice([True, None])
                scan["crl_mm"] = round(rng.uniform(2, 60), 1)
            scans.append(scan)
        out.append(
            json.dumps(
                {
                    "assessed_on": day.isoformat(),
                    "previous_miscarriages": rng.choice([None, 0, 1, 2]),
                    "vaginal_bleeding": rng.choice([None, True, False]),
                    "lmp": lmp.isoformat() if rng.random() < 0.8 else None,
                    "scans": scans,
                    "on_progesterone": rng.random() < 0.2,
                    "allergies": rng.choice([[], ["peanut"], ["penicillin"]]),
                }
            )
        )
    return out


def per_item_us(fn, items) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    texts = generate(args.episodes)
    episodes = [parse_episode_json(t) for t in texts]
    for e in episodes[:500]:  # warm the rule caches
        assess(e)

    def full(text: str) -> str:
        return json.dumps(assess(parse_episode_json(text)))

    runs: dict[str, list[float]] = {
        "baseline json.loads": [],
        "validation": [],
        "decision+plan+trace": [],
        "full (validate+assess+json.dumps)": [],
    }
    for _ in range(args.repeats):
        runs["baseline json.loads"].append(per_item_us(json.loads, texts))
        runs["validation"].append(per_item_us(parse_episode_json, texts))
        runs["decision+plan+trace"].append(per_item_us(assess, episodes))
        runs["full (validate+assess+json.dumps)"].append(per_item_us(full, texts))
    med = {k: statistics.median(v) for k, v in runs.items()}
    base = med["baseline json.loads"]
    print(
        f"episodes: {args.episodes} generated (seeded), repeats: {args.repeats}; median of repeats"
    )
    for name, value in med.items():
        print(f"  {name:38s} {value:8.1f} us/episode   {value / base:6.1f} x baseline")
    assess_us = med["validation"] + med["decision+plan+trace"]
    print(
        f"assessment (validation + decision + plan + trace): {assess_us:.1f} us "
        f"(target < 100 us); validation share {med['validation'] / assess_us:.0%}"
    )
    print(f"throughput: {1e6 / assess_us:,.0f} assessments/second on one core")


if __name__ == "__main__":
    main()
