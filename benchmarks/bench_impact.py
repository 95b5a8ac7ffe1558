"""Monte Carlo throughput: the vectorised numpy model against a naive per-draw Python loop.

Run: .venv/bin/python benchmarks/bench_impact.py [draws]
Both use the same scenario and the same kind of draws; the loop evaluates the model one draw at a
time with Python floats (the baseline a first version would write).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from earlypath.impact import get_scenario, monte_carlo
from earlypath.impact.model import evaluate


def vectorised(draws: int) -> float:
    params = get_scenario("coomarasamy-2020").parameters
    start = time.perf_counter()
    out = monte_carlo(params, draws=draws, seed=1)
    elapsed = time.perf_counter() - start
    assert out["additional_live_births"].shape == (draws,)
    return elapsed


def naive_loop(draws: int) -> float:
    params = get_scenario("coomarasamy-2020").parameters
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    total = 0.0
    for _ in range(draws):
        one = {p.name: float(p.sample(rng, 1)[0]) for p in params}
        total += float(evaluate(one)["additional_live_births"])
    elapsed = time.perf_counter() - start
    assert total > 0
    return elapsed


def main() -> None:
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    loop_draws = max(1, min(draws, 5_000))  # the loop is slow; time fewer draws and scale
    vectorised(1_000)  # warm up imports and caches
    t_vec = min(vectorised(draws) for _ in range(3))
    t_loop = naive_loop(loop_draws)
    vec_rate = draws / t_vec
    loop_rate = loop_draws / t_loop
    print(f"vectorised numpy : {draws:>9,} draws in {t_vec:8.4f} s = {vec_rate:14,.0f} draws/s")
    print(
        f"naive Python loop: {loop_draws:>9,} draws in {t_loop:8.4f} s = {loop_rate:14,.0f} draws/s"
    )
    print(f"speed-up: {vec_rate / loop_rate:,.0f}x")


if __name__ == "__main__":
    main()
