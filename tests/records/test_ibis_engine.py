"""The ibis records compiler runs every node as the records IR says: the very cases the Python
engine runs (tests/records/node_cases.py), on DuckDB, and a few on Spark."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from pathlib import Path
from typing import Any

import ibis
import pytest

from earlypath.records.ibis_compile import compile_records, load_resources
from tests.records.node_cases import CASES, Case

_names = itertools.count()


def read(con: Any, case: Case, folder: Path) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The case's reading by the compiled definition: step values and problems (ref, message)."""
    folder.mkdir(parents=True, exist_ok=True)
    # every resource in one file, given for each type: ``n`` is the place in the whole input
    path = folder / "export.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in case.resources), encoding="utf-8")
    kinds = {r.resource for r in case.spec.rows}
    prefix = f"case{next(_names)}"
    resources = load_resources(con, {k: [path] for k in kinds}, case.spec, prefix)
    encounter = {
        "_key": 1,
        "encounter": case.encounter,
        "patient": case.patient,
        "assessed_on": case.assessed_on,
    }
    schema = {"_key": "int64", "encounter": "string", "patient": "string", "assessed_on": "date"}
    encounters = _table(con, f"{prefix}_enc", encounter, schema)
    out = compile_records(case.spec, resources, lambda rows: encounters, whole=case.patient is None)
    assert out.episodes is not None
    (row,) = out.episodes.to_pyarrow().to_pylist()
    values = {name: _plain(row[name]) for name in case.expect}
    problems = out.problems.order_by(["stage", "n"]).to_pyarrow().to_pylist()
    return values, [(p["ref"], p["message"]) for p in problems]


def _table(con: Any, name: str, row: dict[str, Any], schema: dict[str, str]) -> Any:
    if con.name == "pyspark":
        return con.create_table(name, ibis.memtable([row], schema=schema), temp=True)
    cells = ", ".join(f"CAST({_sql(row[k])} AS {_duck(t)}) AS {k}" for k, t in schema.items())
    con.raw_sql(f"CREATE OR REPLACE TABLE {name} AS SELECT {cells}")
    return con.table(name)


def _duck(kind: str) -> str:
    return {"int64": "BIGINT", "string": "VARCHAR", "date": "DATE"}[kind]


def _sql(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value


@pytest.fixture(scope="module")
def duck() -> Any:
    return ibis.duckdb.connect()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_node_semantics_on_duckdb(duck: Any, case: Case, tmp_path: Path) -> None:
    values, problems = read(duck, case, tmp_path)
    assert values == case.expect
    if case.problems is not None:
        assert problems == list(case.problems)
