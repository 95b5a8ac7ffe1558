"""The full path (validate + `assess_json`) with another checkout's JSON-only validator and with
this one's, in one process, the engine shared: the two take turns within each repeat (CPU,
`time.process_time`; ratio to json.loads of the same texts in the same repeat; median of the
repeats). For a change to validation alone, on a loaded machine where runs of
`bench_assess.py` from two checkouts overlap. The other checkout's `earlypath/model/json_only.py`
is loaded as a module of its own and built over this checkout's model (its validators, ranges
and checks), so only the derivation differs.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/assess_validator_ab.py --before /path/to/main

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_assess import generate, synth_texts  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from earlypath.engines.python import assess_json  # noqa: E402
from earlypath.model import episode as model  # noqa: E402


def before_validator(checkout: Path) -> Any:
    spec = importlib.util.spec_from_file_location(
        "before_json_only", checkout / "earlypath" / "model" / "json_only.py"
    )
    if spec is None or spec.loader is None:
        raise SystemExit(f"no earlypath/model/json_only.py under {checkout}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.json_only_validator(
        model.Episode,
        frozenset({model._date_only, model._number_only}),
        {model._date_in_range: (model.EARLIEST_DATE, model.LATEST_DATE)},
    )


def parse_with(validator: Any) -> Callable[[str], Any]:
    def parse(text: str) -> Any:  # as `parse_episode_json`: the model answers every refusal
        try:
            return validator.validate_json(text)
        except ValidationError:
            return model.parse_episode_json_reference(text)

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--episodes", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    paths = {
        "before": parse_with(before_validator(args.before)),
        "after": parse_with(model._json_only()),
    }
    for name, texts in (
        ("generated", generate(args.episodes)),
        ("synthetic cohort", synth_texts(args.episodes)),
    ):
        for text in texts:  # every key met, every template kept
            assess_json(paths["after"](text))
        ratios: dict[str, list[float]] = {who: [] for who in paths}
        for repeat in range(args.repeats):
            start = time.process_time()
            for text in texts:
                json.loads(text)
            loads = time.process_time() - start
            for who in paths if repeat % 2 == 0 else reversed(paths):
                parse = paths[who]
                start = time.process_time()
                for text in texts:
                    assess_json(parse(text))
                ratios[who].append((time.process_time() - start) / loads)
        medians = {who: statistics.median(values) for who, values in ratios.items()}
        print(
            f"{name}: full path, median of {args.repeats}: before {medians['before']:.2f}x, "
            f"after {medians['after']:.2f}x json.loads "
            f"({medians['after'] / medians['before'] - 1:+.1%})"
        )


if __name__ == "__main__":
    main()
