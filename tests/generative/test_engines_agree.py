"""Hypothesis: the python reference engine, DuckDB and Spark give identical per-episode results.

Cohorts are generated as flat rows (with Unknowns, 16+0 / 16+6 and CRL rounding edges, the 84 mm
dating limit, previous miscarriages 0 / 1 / Unknown, every guideline version boundary) and run
through the whole audit path: load, validation in the engine, the compiled rules, adherence.

An audit costs about a second of CPU whatever its size, so the examples Hypothesis draws for the
Python / DuckDB test and for the fact-level test are drawn first (same strategies and settings)
and read as one input each (stop 50): each cohort's episode ids namespaced (``c<n>.``), so no two
cohorts share an id (a repeated id is a cohort's own), and each cohort's rows compared as its own
example compared them. `test_a_cohort_read_with_the_others_is_read_as_alone` reads one alone.
The Spark test's five larger cohorts are read so too (stop 51): one reading on each engine, not
five, and its most telling cohort read alone by the reference engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from tests.audit.facts_engine import batch_decisions, reference_decisions
from tests.audit.helpers import results, write_rows
from tests.audit.strategies import cohorts
from tests.conftest_spark import spark  # noqa: F401 - the shared session fixture
from tests.drawn import Drawn, in_one_batch
from tests.drawn import drawn as drawn_under
from tests.generative.strategies import episodes as core_episodes

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

Results = tuple[dict[int, Any], dict[int, Any]]


def drawn(strategy: st.SearchStrategy[Drawn], under: settings = SETTINGS) -> list[Drawn]:
    """`tests.drawn.drawn` under this module's `SETTINGS` unless told."""
    return drawn_under(strategy, under)


def _named(cohort: list[dict], space: str) -> list[dict]:
    """The cohort's rows with their episode ids under ``space`` (a missing id stays missing)."""
    return [
        {**row, "episode_id": None if row["episode_id"] is None else space + row["episode_id"]}
        for row in cohort
    ]


def _share(read: Results, first: int, count: int, space: str) -> Results:
    """A cohort's rows of a reading of all of them (rows ``first`` + 1 to ``first`` + ``count``),
    numbered and named as the cohort's own input numbers and names them."""
    episodes, rejects = read
    mine = range(first + 1, first + count + 1)
    return (
        {n - first: v for n, v in episodes.items() if n in mine},
        {
            n - first: None if i is None else i.removeprefix(space)
            for n, i in rejects.items()
            if n in mine
        },
    )


class Together:
    """The drawn cohorts read as one input by each engine, and each cohort's share."""

    def __init__(self, drawn_cohorts: list[list[dict]], folder: Path, session: Any = None) -> None:
        self.cohorts = drawn_cohorts
        self._spark = session  # the Spark session the "spark" engine reads on
        rows: list[dict] = []
        self._first: list[int] = []
        for n, cohort in enumerate(drawn_cohorts):
            self._first.append(len(rows))
            rows += _named(cohort, f"c{n}.")
        self._path = write_rows(rows, folder / "cohorts.parquet")
        self._read: dict[str, Results] = {}

    def share(self, engine: str, n: int) -> Results:
        if engine not in self._read:
            self._read[engine] = results(self._path, engine, self._spark)
        return _share(self._read[engine], self._first[n], len(self.cohorts[n]), f"c{n}.")


@pytest.fixture(scope="module")
def together(tmp_path_factory: pytest.TempPathFactory) -> Together:
    return Together(drawn(cohorts(max_size=40, broken=True)), tmp_path_factory.mktemp("c"))


def test_python_and_duckdb_agree_on_every_row(together: Together) -> None:
    assert len(together.cohorts) == SETTINGS.max_examples
    for n in range(len(together.cohorts)):
        python, python_rejects = together.share("python", n)
        duck, duck_rejects = together.share("duckdb", n)
        assert duck == python, n
        assert duck_rejects == python_rejects, n


def _most_telling(examples: list[list[dict]]) -> int:
    """The cohort to read alone: one with a missing id (the only id two cohorts could share)
    and a repeated one if drawn, else the largest."""

    def telling(n: int) -> tuple[bool, bool, int]:
        ids = [r["episode_id"] for r in examples[n]]
        return None in ids, len(set(ids)) < len(ids), len(ids)

    return max(range(len(examples)), key=telling)


def test_a_cohort_read_with_the_others_is_read_as_alone(together: Together, tmp_path: Path) -> None:
    n = _most_telling(together.cohorts)
    path = write_rows(together.cohorts[n], tmp_path / "alone.parquet")
    for engine in ("python", "duckdb"):
        alone = results(path, engine)
        assert together.share(engine, n) == alone, engine
        assert alone[0] or alone[1]  # what is compared is read


# The Spark test's examples: larger cohorts, drawn without shrinking (a shrunk example would
# need a Spark reading of its own); its five cohorts are read as one input on each engine.
SPARK_SETTINGS = settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.spark
def test_spark_agrees_with_python_and_duckdb(
    spark: Any,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    examples = drawn(cohorts(min_size=150, max_size=400, broken=True), SPARK_SETTINGS)
    assert len(examples) == SPARK_SETTINGS.max_examples
    together = Together(examples, tmp_path_factory.mktemp("c"), spark)
    for n in range(len(examples)):
        python, python_rejects = together.share("python", n)
        duck, duck_rejects = together.share("duckdb", n)
        sp, sp_rejects = together.share("spark", n)
        assert duck == python, n
        assert sp == python, n
        assert duck_rejects == python_rejects == sp_rejects, n
    # Spark's share of the most telling cohort is what the reference reads of it alone
    n = _most_telling(examples)
    alone = results(
        write_rows(examples[n], tmp_path_factory.mktemp("c") / "alone.parquet"), "python"
    )
    assert together.share("spark", n) == alone
    assert alone[0] or alone[1]  # what is compared is read


# Fact level: the core's episode strategy (several scans, the dating scan chosen among them)
# flattened by episode_facts, judged by the compiled table on DuckDB against the reference; the
# drawn examples judged in one table (each episode is a row of its own), one also alone.
def test_compiled_rules_agree_on_core_generated_episodes() -> None:
    examples = drawn(st.lists(core_episodes(), min_size=1, max_size=30))
    assert len(examples) == SETTINGS.max_examples
    batched = in_one_batch(examples, lambda eps: batch_decisions(eps, "duckdb"))
    for eps, decided in zip(examples, batched, strict=True):
        assert decided == reference_decisions(eps)
    largest = max(examples, key=len)
    assert batch_decisions(largest, "duckdb") == batched[examples.index(largest)]
