"""Run the pathway sections on the package's batch engine (DuckDB, or Spark) over flat fact rows.

Calls `earlypath.engines.batch.assess_sections_table` and reshapes its per-section structs into
the flat keys the agreement tests compare with the reference engine's tables and values: no
rule is restated here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import pyarrow as pa

from earlypath.engines.batch import assess_sections_table
from earlypath.engines.ibis_compile import IR_TYPES
from earlypath.facts import ALL_FACTS, episode_facts
from earlypath.guideline.pathway import NOT_APPLICABLE, PathwayPolicy, sections
from earlypath.guideline.versions import resolve_version
from earlypath.model import parse_episode

SCHEMA = pa.schema(
    [(f.name, ibis.dtype(IR_TYPES[f.type]).to_pyarrow()) for f in ALL_FACTS]
    + [("i", pa.int64()), ("guideline_version", pa.string())]
)


def _version(episode: dict[str, Any]) -> str:
    parsed = parse_episode(episode)
    return resolve_version(parsed.assessed_on, parsed.guideline_version)[0].version


def batch_sections(
    episodes: list[dict[str, Any]],
    policy: PathwayPolicy = PathwayPolicy(),
    con: Any = None,
    only: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Per episode: ``{"<section>.<table>": (decision, recommendations, missing),
    "<section>.value.<name>": value}`` from `assess_sections_table` (the package's batch
    engine) on ``con`` (an ibis backend; DuckDB if None), of every section or those ``only``
    names (a test that compares one section need not compile the others)."""
    con = con or ibis.duckdb.connect()
    rows = []
    for i, episode in enumerate(episodes):
        parsed = parse_episode(episode)
        facts = episode_facts(parsed)
        rows.append(
            {
                **{f.name: facts[f.name] for f in ALL_FACTS},
                "i": i,
                "guideline_version": _version(episode),
            }
        )
    t = as_backend_table(
        con, pa.Table.from_pylist(rows, schema=SCHEMA), f"pathway_rows_{len(rows)}"
    )
    names = [s.name for s in sections() if only is None or s.name in only]
    judged = assess_sections_table(t, names, pathway=policy)
    out: list[dict[str, Any]] = [{} for _ in episodes]
    for row in con.to_pyarrow(judged.select("i", *names)).to_pylist():
        target = out[row["i"]]
        for name in names:
            section = row[name]
            tables = {"main": section, **(section.get("other_decisions") or {})}
            for table, r in tables.items():
                target[f"{name}.{table}"] = (
                    r["decision"],
                    list(r["recommendations"]),
                    list(r["missing"]),
                )
            for value_name, value in (section.get("values") or {}).items():
                target[f"{name}.value.{value_name}"] = value
    return out


def as_backend_table(con: Any, rows: pa.Table, name: str) -> Any:
    """The rows as a table of ``con``. On Spark, from Arrow directly: ibis's memtable goes
    through pandas there, which turns a NULL float into NaN (and NaN < 35 is false, not NULL)."""
    if con.name != "pyspark":
        return ibis.memtable(rows)
    con._session.createDataFrame(rows).createOrReplaceTempView(name)
    return con.table(name)


def reference_sections(
    episodes: list[dict[str, Any]], policy: PathwayPolicy = PathwayPolicy()
) -> list[dict[str, Any]]:
    """The same shape from the reference engine's internals (tables and values evaluated in Python)."""
    from earlypath.engines.evaluate import compile_expr as py_expr
    from earlypath.engines.tables import evaluate_table

    out = []
    for episode in episodes:
        version = _version(episode)
        facts = episode_facts(parse_episode(episode))
        row: dict[str, Any] = {}
        for section in sections():
            for name, table in section.tables(version, policy).items():
                r = evaluate_table(table, facts)
                row[f"{section.name}.{name}"] = (
                    r.outcome,
                    list(r.recommendations),
                    list(r.missing),
                )
            applies = row[f"{section.name}.main"][0] != NOT_APPLICABLE
            for name, expr in section.values(version, policy).items():
                # As the assessment: a section that does not apply computes no value.
                row[f"{section.name}.value.{name}"] = py_expr(expr)(facts) if applies else None
        out.append(row)
    return out


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    if isinstance(a, dt.datetime):
        a = a.date()
    if isinstance(b, dt.datetime):
        b = b.date()
    return a == b
