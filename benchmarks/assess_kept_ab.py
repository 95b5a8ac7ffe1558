"""The full path (validate + `assess_json`) with another checkout's kept whole assessments (its
`earlypath/engines/fused.py` assessment key function and `assessment_template.py` template) and
with this one's, in one process, everything else shared: the two take turns within each repeat,
each loop between two loops of json.loads over the same texts (CPU, `time.process_time`; the
ratio to the mean of those two; median of the repeats, and their range; the change also as the
median of each repeat's after/before). For a change to the
assessment key or the kept template alone, on a loaded machine where runs of
`bench_assess.py` from two checkouts overlap. Each side's key function and templates are made
from the same episodes first; the two sides' texts are checked to be the same bytes.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/assess_kept_ab.py --before /path/to/main

(Named without the bench_ prefix: `make bench` runs every bench_*.py with no arguments, and this
one needs --before.)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_assess import generate, synth_texts  # noqa: E402

from earlypath import parse_episode_json  # noqa: E402
from earlypath.engines import assessment_template, fused  # noqa: E402
from earlypath.engines import python as engine  # noqa: E402
from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY  # noqa: E402
from earlypath.guideline.versions import VERSIONS  # noqa: E402
from earlypath.policy import DEFAULT_POLICY  # noqa: E402


def load(checkout: Path, name: str) -> ModuleType:
    path = checkout / "earlypath" / "engines" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"before_{name}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"no {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Side:
    """One side's key function and template class, and the kept assessments made with them."""

    def __init__(self, key_function: Any, template: Any) -> None:
        self.key_function = key_function
        self.template = template
        self.kept: list[tuple[dict[Any, Any], Any]] = []

    def use(self) -> None:
        engine.assessment_key_function = self.key_function  # type: ignore[attr-defined]
        engine.AssessmentTemplate = self.template  # type: ignore[misc]
        for parts, (whole, fn) in zip(every_parts(), self.kept, strict=True):
            parts.whole.clear()
            parts.whole.update(whole)
            parts._whole_key.fn, parts._whole_key.built = fn, True

    def make(self, texts: list[str]) -> list[bytes]:
        engine.assessment_key_function = self.key_function  # type: ignore[attr-defined]
        engine.AssessmentTemplate = self.template  # type: ignore[misc]
        for parts in every_parts():
            parts.whole.clear()
            parts._whole_key.built = False
            parts._whole_key.calls = engine.WHOLE_KEY_AFTER
        out = [engine.assess_json(parse_episode_json(text)) for text in texts]
        self.kept = [(dict(p.whole), p._whole_key.fn) for p in every_parts()]
        return out


def every_parts() -> list[Any]:
    return [engine._parts(v, DEFAULT_POLICY, DEFAULT_PATHWAY_POLICY) for v in VERSIONS]


def per_item_us(fn: Any, items: list[str]) -> float:
    start = time.process_time()
    for item in items:
        fn(item)
    return (time.process_time() - start) / len(items) * 1e6


def full(text: str) -> bytes:
    return engine.assess_json(parse_episode_json(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--episodes", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    before = Side(
        load(args.before, "fused").assessment_key_function,
        load(args.before, "assessment_template").AssessmentTemplate,
    )
    after = Side(fused.assessment_key_function, assessment_template.AssessmentTemplate)
    for name, texts in (
        ("generated", generate(args.episodes)),
        ("synthetic cohort", synth_texts(args.episodes)),
    ):
        if before.make(texts) != after.make(texts):
            raise SystemExit(f"{name}: the two sides' texts differ")
        ratios: dict[str, list[float]] = {"before": [], "after": []}
        for repeat in range(args.repeats):
            sides = [("before", before), ("after", after)]
            for who, side in sides if repeat % 2 == 0 else sides[::-1]:
                side.use()
                base = per_item_us(json.loads, texts)
                value = per_item_us(full, texts)
                base = (base + per_item_us(json.loads, texts)) / 2
                ratios[who].append(value / base)
        b, a = statistics.median(ratios["before"]), statistics.median(ratios["after"])
        paired = statistics.median(
            x / y for x, y in zip(ratios["after"], ratios["before"], strict=True)
        )
        print(
            f"{name}, {len(texts)} episodes, {args.repeats} repeats, full path x json.loads "
            f"(median; range): before {b:.2f} ({min(ratios['before']):.2f}-"
            f"{max(ratios['before']):.2f}), after {a:.2f} ({min(ratios['after']):.2f}-"
            f"{max(ratios['after']):.2f}), change {a / b - 1:+.1%} (median of the "
            f"repeats' after/before: {paired - 1:+.1%})"
        )
    after.use()


if __name__ == "__main__":
    main()
