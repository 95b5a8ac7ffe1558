"""One assessment in-process: CPU microseconds per episode, and the ratio to json.loads of the
same input text measured in the same run (issue 16 goal: at most 10x; 20 us is the aim).

Paths (each from the episode's JSON text to the JSON text a caller gets):
  full assessment     validate + every section + JSON text (`earlypath assess`, /api/assess):
                      assess_json where the checkout has it (the CLI's path), and the data
                      path (assess, then json_text.dumps) beside it
  progesterone only   validate + assess(sections=("progesterone",)) + JSON text (CDS card, audit),
                      and through assess_json beside it
  decision only       validate + decide() (decision, recommendations, missing; no text)
plus the parts: validation alone, the engine alone on validated episodes.

Figures are CPU time (time.process_time) so other processes on a shared machine count less.
Each repeat measures every path in turn, starting at another path each repeat (interleaved),
and each path's loop between two loops of json.loads over the same texts: its ratio is to the
mean of those two, so a change of load moves the path and its baseline alike. The median of
the repeats' ratios is printed, with their range. Runs on older checkouts too (paths they
lack are skipped).

    .venv/bin/python benchmarks/bench_assess.py [--episodes 20000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from earlypath import assess, parse_episode_json
from earlypath.errors import InputError

try:  # the encoder every JSON output uses (older checkouts: json.dumps with the same options)
    from earlypath.json_text import dumps
except ImportError:  # pragma: no cover - before issue 16

    def dumps(data: Any) -> str:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


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


def synth_texts(n: int, seed: int = 7) -> list[str]:
    """Episodes of the synthetic audit cohort (`earlypath.synth`, seeded) as JSON lines: the
    mix of a real early pregnancy unit's year, so keys repeat as they would."""
    from earlypath.audit.flat import flat_to_episode
    from earlypath.synth.cohort import generate_chunks

    out: list[str] = []
    for table in generate_chunks(n, seed):
        for row in table.to_pylist():
            try:  # the cohort's few impossible rows, and those before NG126, are left out
                text = json.dumps(flat_to_episode(row), default=str)
                assess(parse_episode_json(text))
            except (ValueError, InputError):
                continue
            out.append(text)
    return out


def key_hit_rates(texts: list[str]) -> dict[str, float]:
    """Per section, the share of these episodes whose key (the section's criterion values,
    advice and shown plain facts) was met before in the run: 1 - distinct keys / episodes."""
    try:
        from earlypath.engines import sections as engine_sections
        from earlypath.engines.python import _parts, assess_json
        from earlypath.guideline.versions import VERSIONS
        from earlypath.policy import DEFAULT_POLICY
    except ImportError:  # before the generated keys
        return {}
    from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY, sections

    prepared = [
        engine_sections.prepare(section, version.version, DEFAULT_PATHWAY_POLICY)
        for version in VERSIONS
        for section in sections()
    ]
    prepared += [_parts(v, DEFAULT_POLICY, DEFAULT_PATHWAY_POLICY).progesterone for v in VERSIONS]
    if not all(hasattr(known, "by_key") for known in prepared):  # before the generated keys
        return {}
    for known in prepared:  # count this cohort's keys only
        known.by_key.clear()
    wholes = [_parts(v, DEFAULT_POLICY, DEFAULT_PATHWAY_POLICY) for v in VERSIONS]
    wholes = [parts.whole for parts in wholes if hasattr(parts, "whole")]  # kept assessments
    for kept in wholes:
        kept.clear()
    assessed = 0
    for text in texts:
        try:
            assess_json(parse_episode_json(text))
        except Exception:  # noqa: BLE001, S112 - a line the contract refuses has no key
            continue
        assessed += 1
    keys: dict[str, int] = {}
    for version in VERSIONS:
        parts = _parts(version, DEFAULT_POLICY, DEFAULT_PATHWAY_POLICY)
        keys["progesterone"] = keys.get("progesterone", 0) + len(parts.progesterone.by_key)
        for section in sections():
            prepared = engine_sections.prepare(section, version.version, DEFAULT_PATHWAY_POLICY)
            keys[section.name] = keys.get(section.name, 0) + len(prepared.by_key)
    if wholes:  # the whole assessment's key (every section's at once)
        keys["whole assessment"] = sum(len(kept) for kept in wholes)
    return {name: 1 - count / assessed for name, count in keys.items()}


def per_item_us(fn: Callable[[Any], Any], items: list[Any]) -> float:
    start = time.process_time()
    for item in items:
        fn(item)
    return (time.process_time() - start) / len(items) * 1e6


def paths() -> dict[str, Callable[[str], Any]]:
    """Each path from JSON text in to what its caller gets; those this checkout has."""
    out: dict[str, Callable[[str], Any]] = {
        "full assessment": lambda text: dumps(assess(parse_episode_json(text))),
    }
    try:  # the JSON text path the CLI takes (issue 16): the full assessment's text, built directly
        from earlypath.engines.python import assess_json
    except ImportError:
        pass
    else:
        out["full assessment"] = lambda text: assess_json(parse_episode_json(text))
        out["  data, then json_text.dumps"] = lambda text: dumps(assess(parse_episode_json(text)))
    try:
        assess({"assessed_on": "2024-03-01"}, sections=("progesterone",))
    except TypeError:  # before issue 16
        return out
    out["progesterone only"] = lambda text: dumps(
        assess(parse_episode_json(text), sections=("progesterone",))
    )
    if "  data, then json_text.dumps" in out:  # the JSON text path, as `assess_json` gives it
        from earlypath.engines.python import assess_json

        out["  as JSON text (assess_json)"] = lambda text: assess_json(
            parse_episode_json(text), sections=("progesterone",)
        )
    try:
        from earlypath.engines.python import decide
    except ImportError:
        return out
    out["decision only"] = lambda text: decide(parse_episode_json(text))
    return out


def bracketed(fn: Callable[[Any], Any], items: list[Any], texts: list[str]) -> tuple[float, float]:
    """``fn`` over ``items`` between two loops of json.loads over ``texts`` (the same episodes'
    text): (CPU us per item, the ratio to the mean of the two baselines). The baseline is taken
    right before and right after, so a change of load during the run moves both alike."""
    before = per_item_us(json.loads, texts)
    value = per_item_us(fn, items)
    after = per_item_us(json.loads, texts)
    return value, value / ((before + after) / 2)


def spread(values: list[float]) -> str:
    return f"{min(values):.1f}-{max(values):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--synth", type=int, default=20000, help="synthetic cohort episodes")
    args = parser.parse_args()
    texts = generate(args.episodes)
    synth = synth_texts(args.synth)
    episodes = [parse_episode_json(t) for t in texts]
    measured = paths()
    full = measured["full assessment"]
    loops: dict[str, tuple[Callable[[Any], Any], list[Any], list[str]]] = {
        name: (fn, texts, texts) for name, fn in measured.items()
    }
    loops["  validation alone"] = (parse_episode_json, texts, texts)
    loops["  engine alone (full)"] = (assess, episodes, texts)
    loops["full, synthetic cohort"] = (full, synth, synth)  # ratio to the cohort's own lines
    # Warm the rule caches and the code paths over every episode: every key met, every
    # template kept (else the first repeat of each path makes them, an outlier).
    for fn, items, _ in loops.values():
        for item in items:
            fn(item)
    us: dict[str, list[float]] = {name: [] for name in loops}
    ratios: dict[str, list[float]] = {name: [] for name in loops}
    baseline: list[float] = []
    names = list(loops)
    for repeat in range(args.repeats):
        # Interleaved: each repeat starts at another path, so none is always measured first.
        turn = repeat % len(names)
        for name in names[turn:] + names[:turn]:
            fn, items, base_texts = loops[name]
            value, ratio = bracketed(fn, items, base_texts)
            us[name].append(value)
            ratios[name].append(ratio)
        baseline.append(per_item_us(json.loads, texts))
    print(
        f"one assessment, {args.episodes} generated episodes (seeded), {args.repeats} repeats; "
        "CPU us per episode, median of repeats; ratio to json.loads of the same texts measured "
        "right before and after each loop (their mean), median of the repeats' ratios, and "
        "the ratios' range"
    )
    print(f"  {'json.loads (baseline)':28s} {statistics.median(baseline):8.1f} us")
    for name in loops:
        print(
            f"  {name:28s} {statistics.median(us[name]):8.1f} us   "
            f"{statistics.median(ratios[name]):6.1f} x json.loads   ({spread(ratios[name])})"
        )
    print("  (full, synthetic cohort: the ratio is to json.loads of the cohort's own lines)")
    rates = key_hit_rates(synth)
    if rates:
        print(f"section keys met before, {len(synth)} synthetic cohort episodes:")
        print("  " + ", ".join(f"{name} {rate:.1%}" for name, rate in rates.items()))
    ratio = statistics.median(ratios["full assessment"])
    print(f"goal: one assessment at most 10x json.loads; full assessment now {ratio:.1f}x")


if __name__ == "__main__":
    main()
