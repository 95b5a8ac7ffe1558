"""Hypothesis: the python reference engine, DuckDB and Spark give identical per-episode results.

Cohorts are generated as flat rows (with Unknowns, 16+0 / 16+6 and CRL rounding edges, the 84 mm
dating limit, previous miscarriages 0 / 1 / Unknown, every guideline version boundary) and run
through the whole audit path: load, validation in the engine, the compiled rules, adherence.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.audit.helpers import results, write_rows
from tests.audit.strategies import cohorts
from tests.conftest_spark import spark  # noqa: F401 - the shared session fixture
from tests.generative.strategies import episodes as core_episodes

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(rows=cohorts(max_size=40, broken=True))
def test_python_and_duckdb_agree_on_every_row(rows: list[dict], tmp_path_factory: Any) -> None:
    path = write_rows(rows, tmp_path_factory.mktemp("c") / "cohort.parquet")
    python, python_rejects = results(path, "python")
    duck, duck_rejects = results(path, "duckdb")
    assert duck == python
    assert duck_rejects == python_rejects


@pytest.mark.spark
@settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each Spark run takes seconds
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(rows=cohorts(min_size=150, max_size=400, broken=True))
def test_spark_agrees_with_python_and_duckdb(
    rows: list[dict],
    spark: Any,  # noqa: F811
    tmp_path_factory: Any,
) -> None:
    path = write_rows(rows, tmp_path_factory.mktemp("c") / "cohort.parquet")
    python, python_rejects = results(path, "python")
    duck, duck_rejects = results(path, "duckdb")
    sp, sp_rejects = results(path, "spark", spark)
    assert duck == python
    assert sp == python
    assert duck_rejects == python_rejects == sp_rejects


# Fact level: the core's episode strategy (several scans, the dating scan chosen among them)
# flattened by episode_facts, judged by the compiled table on DuckDB against the reference.
@SETTINGS
@given(eps=st.lists(core_episodes(), min_size=1, max_size=30))
def test_compiled_rules_agree_on_core_generated_episodes(eps: list[dict]) -> None:
    from tests.audit.facts_engine import batch_decisions, reference_decisions

    assert batch_decisions(eps, "duckdb") == reference_decisions(eps)
