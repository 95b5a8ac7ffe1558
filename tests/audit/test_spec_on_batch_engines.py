"""The clinical vignettes (tests/spec) on the batch engines: DuckDB and Spark, one row per vignette.

Each vignette's episode is flattened by `earlypath.facts.episode_facts` (so several scans reduce
to the latest and the dating scan exactly as for the reference engine); a vignette that asks for
a guideline version gets it through the optional ``guideline_version`` column.
"""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.policy import Policy
from tests.audit.facts_engine import batch_decisions
from tests.spec.vignettes import Vignette, load_vignettes

VIGNETTES = load_vignettes("progesterone")


def _by_policy() -> dict[tuple, list[Vignette]]:
    groups: dict[tuple, list[Vignette]] = {}
    for v in VIGNETTES:
        groups.setdefault(tuple(sorted(v.policy.items())), []).append(v)
    return groups


def _check(vignettes: list[Vignette], got: list[tuple]) -> list[str]:
    failures = []
    for v, (decision, recommendations, missing) in zip(vignettes, got, strict=True):
        e = v.expect
        if decision != e["decision"]:
            failures.append(f"{v.id}: decision {decision} != {e['decision']}")
        if "recommendations" in e and recommendations != e["recommendations"]:
            failures.append(f"{v.id}: recommendations {recommendations} != {e['recommendations']}")
        if "missing" in e and missing != e["missing"]:
            failures.append(f"{v.id}: missing {missing} != {e['missing']}")
    return failures


def _run(engine: str, spark: Any = None) -> None:
    failures: list[str] = []
    for policy, vignettes in _by_policy().items():
        got = batch_decisions(
            [v.episode for v in vignettes], engine, Policy(**dict(policy)), spark=spark
        )
        failures += _check(vignettes, got)
    assert not failures, "\n".join(failures)


def test_there_are_vignettes() -> None:
    assert len(VIGNETTES) >= 10


def test_every_vignette_on_duckdb() -> None:
    _run("duckdb")


@pytest.mark.spark
def test_every_vignette_on_spark(spark: Any) -> None:
    _run("spark", spark)
