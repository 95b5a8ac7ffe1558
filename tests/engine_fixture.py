"""One ``engine`` fixture for the spec and pathway vignettes: python | duckdb | spark.

Every engine answers through the package's public API: the python engine is `earlypath.assess`
(one episode at a time, the whole assessment); DuckDB and Spark are
`earlypath.engines.batch.assess_sections_table` over one row of facts per episode. Every engine
gives, per episode, each section's ``decision``, ``recommendations`` and ``missing`` (and
``other_decisions``) in the python engine's shape, plus ``guideline.version``; only the python
engine gives the rest of the assessment (advice, plan, gestation, rendered fields), so checks of
those belong to ``engine.name == "python"``.

Import the fixture into a conftest: ``from tests.engine_fixture import engine``. Spark is marked
``spark`` (deselect it with ``-m "not spark"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pytest

from earlypath import Policy, assess
from earlypath.engines.batch import assess_sections_table, section_names
from earlypath.facts import ALL_FACTS, episode_facts
from earlypath.guideline.pathway import PathwayPolicy
from earlypath.model import parse_episode
from tests.pathway.batch import SCHEMA, as_backend_table

ENGINES = ("python", "duckdb", pytest.param("spark", marks=pytest.mark.spark))


@dataclass(frozen=True)
class Engine:
    """One engine, and (for the batch engines) the ibis backend it runs on."""

    name: str
    con: Any = None

    def assess_many(
        self,
        episodes: Sequence[dict[str, Any]],
        policy: Policy | None = None,
        pathway: PathwayPolicy | None = None,
    ) -> list[dict[str, Any]]:
        """Each episode's assessment (only the sections and guideline version on batch engines)."""
        policy = policy or Policy()
        pathway = pathway or PathwayPolicy()
        if self.con is None:
            return [assess(e, policy, pathway_policy=pathway) for e in episodes]
        rows = []
        for i, episode in enumerate(episodes):
            parsed = parse_episode(episode)
            facts = episode_facts(parsed)
            # The version asked for, if any; otherwise the batch engine finds the one in force.
            asked = parsed.guideline_version
            rows.append(
                {**{f.name: facts[f.name] for f in ALL_FACTS}, "i": i, "guideline_version": asked}
            )
        t = as_backend_table(
            self.con, pa.Table.from_pylist(rows, schema=SCHEMA), f"engine_rows_{id(rows)}"
        )
        names = list(section_names())
        judged = assess_sections_table(t, names, policy, pathway)
        out: list[dict[str, Any]] = [{} for _ in episodes]
        for row in self.con.to_pyarrow(judged.select("i", "guideline_version", *names)).to_pylist():
            assessment = {"guideline": {"version": row["guideline_version"]}}
            for name in names:
                section = {k: v for k, v in row[name].items() if k != "values"}
                if section.get("other_decisions") is None:
                    section.pop("other_decisions", None)
                assessment[name] = section
            out[row["i"]] = assessment
        return out


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    name = request.param
    if name == "python":
        return Engine(name)
    import ibis

    if name == "duckdb":
        return Engine(name, ibis.duckdb.connect())
    from tests.conftest_spark import spark_session

    return Engine(name, ibis.pyspark.connect(spark_session()))
