"""Run episodes (dicts of the episode contract) through the batch engine at the fact level."""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa

from earlypath.engines.batch import assess_table
from earlypath.engines.ibis_compile import IR_TYPES
from earlypath.engines.python import assess
from earlypath.facts import ALL_FACTS, episode_facts
from earlypath.model import parse_episode
from earlypath.policy import DEFAULT_POLICY, Policy

FACT_SCHEMA = pa.schema(
    [(f.name, ibis.dtype(IR_TYPES[f.type]).to_pyarrow()) for f in ALL_FACTS]
    + [("guideline_version", pa.string()), ("i", pa.int64())]
)


def fact_table(eps: list[dict[str, Any]]) -> pa.Table:
    rows = []
    for i, data in enumerate(eps):
        episode = parse_episode(data)
        facts = episode_facts(episode)
        rows.append(
            {
                **{f.name: facts[f.name] for f in ALL_FACTS},
                "guideline_version": episode.guideline_version,
                "i": i,
            }
        )
    return pa.Table.from_pylist(rows, schema=FACT_SCHEMA)


def batch_decisions(
    eps: list[dict[str, Any]], engine: str, policy: Policy = DEFAULT_POLICY, spark: Any = None
) -> list[tuple]:
    table = fact_table(eps)
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        t = ibis.memtable(table)
    else:
        con = ibis.pyspark.connect(spark)
        names = table.column_names
        rows = [tuple(r[n] for n in names) for r in table.to_pylist()]
        spark.createDataFrame(rows, schema=_spark_schema()).createOrReplaceTempView("facts")
        t = con.table("facts")
    out = assess_table(t, policy).order_by("i")
    rows = con.to_pyarrow(out.select("decision", "recommendations", "missing")).to_pylist()
    return [(r["decision"], list(r["recommendations"]), list(r["missing"])) for r in rows]


def _spark_schema() -> str:
    kinds = {"bool": "boolean", "int": "bigint", "float": "double", "date": "date", "str": "string"}
    return ", ".join(
        [f"{f.name} {kinds[f.type]}" for f in ALL_FACTS] + ["guideline_version string", "i bigint"]
    )


def reference_decisions(eps: list[dict[str, Any]], policy: Policy = DEFAULT_POLICY) -> list[tuple]:
    out = []
    for data in eps:
        p = assess(data, policy)["progesterone"]
        out.append((p["decision"], p["recommendations"], p["missing"]))
    return out
