"""Run the pathway sections on the ibis batch engine (DuckDB, or Spark) over flat fact rows.

Uses only the audit developer's public compiler (`compile_expr`, `compile_table`) on the same
`Section.tables` and `Section.values` the reference engine evaluates: no rule is restated here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pyarrow as pa

from earlypath.engines.ibis_compile import IR_TYPES, compile_expr, compile_table
from earlypath.facts import ALL_FACTS, episode_facts
from earlypath.guideline.pathway import PathwayPolicy, sections
from earlypath.guideline.versions import resolve_version
from earlypath.model import parse_episode

SCHEMA = pa.schema(
    [(f.name, ibis.dtype(IR_TYPES[f.type]).to_pyarrow()) for f in ALL_FACTS] + [("i", pa.int64())]
)


def _version(episode: dict[str, Any]) -> str:
    parsed = parse_episode(episode)
    return resolve_version(parsed.assessed_on, parsed.guideline_version)[0].version


def batch_sections(
    episodes: list[dict[str, Any]], policy: PathwayPolicy = PathwayPolicy(), con: Any = None
) -> list[dict[str, Any]]:
    """Per episode: ``{"<section>.<table>": (decision, recommendations, missing),
    "<section>.value.<name>": value}`` computed on ``con`` (an ibis backend; DuckDB if None)."""
    groups: dict[str, list[int]] = {}
    for i, episode in enumerate(episodes):
        groups.setdefault(_version(episode), []).append(i)
    out: list[dict[str, Any]] = [{} for _ in episodes]
    con = con or ibis.duckdb.connect()
    for version, indices in groups.items():
        rows = []
        for i in indices:
            facts = episode_facts(parse_episode(episodes[i]))
            rows.append({**{f.name: facts[f.name] for f in ALL_FACTS}, "i": i})
        t = _table(con, pa.Table.from_pylist(rows, schema=SCHEMA), f"pathway_rows_{len(out)}")
        # Criteria and guards become columns first, as the audit's batch engine does (ibis 12
        # writes ``(NOT x) IS NULL`` as ``NOT (x) IS NULL``, which DuckDB reads as
        # ``NOT (x IS NULL)``; a column reference avoids it).
        tables = {
            (section.name, name): table
            for section in sections()
            for name, table in section.tables(version, policy).items()
        }
        rules: dict[Any, str] = {}
        for table in tables.values():
            for branch in table.branches:
                rules.setdefault(branch.guard, f"_rule_{len(rules)}")
                for verdict in branch.verdicts:
                    for criterion in verdict.criteria:
                        rules.setdefault(criterion.expr, f"_rule_{len(rules)}")
        t = t.mutate(**{name: compile_expr(e, t, "bool") for e, name in rules.items()})
        columns: dict[str, Any] = {}
        for section in sections():
            for name, table in section.tables(version, policy).items():
                compiled = compile_table(table, lambda e, t=t, rules=rules: t[rules[e]])
                key = f"{section.name}.{name}"
                columns[f"{key}|d"] = compiled.decision
                columns[f"{key}|r"] = compiled.recommendations
                columns[f"{key}|m"] = compiled.missing
            for name, expr in section.values(version, policy).items():
                columns[f"{section.name}.value.{name}|v"] = compile_expr(expr, t)
        result = con.to_pyarrow(t.select("i", **columns)).to_pylist()
        for row in result:
            target = out[row["i"]]
            for column, value in row.items():
                if column == "i":
                    continue
                key, part = column.rsplit("|", 1)
                if part == "v":
                    target[key] = value
                else:
                    target.setdefault(key, {})[part] = value
            for key, parts in list(target.items()):
                if isinstance(parts, dict):
                    target[key] = (parts["d"], list(parts["r"]), list(parts["m"]))
    return out


def _table(con: Any, rows: pa.Table, name: str) -> Any:
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
            for name, expr in section.values(version, policy).items():
                row[f"{section.name}.value.{name}"] = py_expr(expr)(facts)
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
