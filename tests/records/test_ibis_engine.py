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

from earlypath.records.ibis_compile import compile_records, load_resources, read_schema
from earlypath.records.ir import (
    Agg,
    AnyItem,
    AnyResourceItem,
    Col,
    Concept,
    EpisodeSpec,
    InSet,
    RowSpec,
)
from earlypath.rules.ir import Const
from tests.conftest_spark import spark_session
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
        types = {"int64": "bigint", "string": "string", "date": "date"}
        ddl = ", ".join(f"{k} {types[t]}" for k, t in schema.items())
        con._session.createDataFrame([tuple(row.values())], ddl).createOrReplaceTempView(name)
        return con.table(name)
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


# JSON types, Python's rounding, checks and problems, joins, days with carry: the nodes whose
# Spark SQL differs most (all 16 of an earlier, longer list passed; a Spark case costs ~9 s)
_ON_SPARK = {
    "field str of a number",
    "concept not an object",
    "round2 binary",
    "check reports and drops the resource; other types, non-objects skipped",
    "joined: the last row of that id; no key, no row",
    "days: grouped, derived, carried; problems",
    # the value sets' join of the unnested codings (a constant table, bit_or per row)
    "inset: each concept its own sets",
    "inset codings that are not objects",
    # a set tested inside list items (the row's listed codings) and AtLeast (the first listed)
    "inset in a nested list item, and the item's own test",
    # the list item itself a concept, items that are not objects among them (stop 37)
    "inset of the item itself",
    "at least first in set",
    # an NHS number's digits: Spark's regexp and casts as DuckDB's
    "nhs number spaces",
    "nhs number check fails",
    "nhs number letter",
    # a lambda over a list of the resource inside a list item's lambda (stop 38)
    "anyresourceitem: a later item named by a later reference",
}
SPARK_CASES = [c for c in CASES if c.name in _ON_SPARK]


@pytest.mark.spark
@pytest.mark.parametrize("case", SPARK_CASES, ids=[c.name for c in SPARK_CASES])
def test_node_semantics_on_spark(spark_ibis: Any, case: Case, tmp_path: Path) -> None:
    values, problems = read(spark_ibis, case, tmp_path)
    assert values == case.expect
    if case.problems is not None:
        assert problems == list(case.problems)


def test_every_spark_case_is_a_shared_case() -> None:
    assert {c.name for c in SPARK_CASES} == _ON_SPARK


@pytest.fixture(scope="module")
def spark_ibis() -> Any:
    return ibis.pyspark.connect(spark_session())


def test_round2_is_pythons_round_on_duckdb(duck: Any) -> None:
    """Ties, near-ties and the binary value, below and above 1000, both signs."""
    from earlypath.records.ibis_compile import round2

    values = [k / 1000 for k in range(-3000, 3001, 5)]  # every half-hundredth tie, as written
    values += [0.125, 2.675, 1.005, 0.0005, 1e-9, 999.995, 1000.005, 1234.565, 12345678.125]
    values += [2.0**52 + 1, 4503599627370495.5, 0.015, 0.025, 0.035, 0.045, 5e-324]
    t = ibis.memtable({"x": values}, schema={"x": "float64"})
    got = t.select(y=round2(t.x)).to_pyarrow()["y"].to_pylist()
    assert got == [round(v, 2) for v in values]


@pytest.mark.parametrize(
    "when",
    [
        # at the resource: there is no item to compare with
        AnyResourceItem("r", Const(True)),
        # inside an item of an item's list: which list is the resource's is not clear
        AnyItem("c", AnyItem("d", AnyResourceItem("r", Const(True)))),
    ],
)
def test_a_resource_list_is_compared_only_from_an_item_of_the_resource(when: Any) -> None:
    spec = EpisodeSpec(rows=(RowSpec("t", "Observation", when, None, ()),), steps=())
    with pytest.raises(TypeError, match="AnyResourceItem is read only inside"):
        read_schema(spec)


def test_a_resource_list_item_tests_no_value_set(duck: Any, tmp_path: Path) -> None:
    # its items have no place among the row's listed codings (`_item_concepts`)
    when = AnyItem("c", AnyResourceItem("r", InSet(Concept("k"), "bleeding")))
    spec = EpisodeSpec(
        rows=(RowSpec("t", "Observation", when, None, (("v", Const(1)),)),),
        steps=(("v", Agg("collect", "t", Const(True), Col("v"))),),
    )
    case = Case("value set in a resource list item", spec, ({"resourceType": "Observation"},), {})
    with pytest.raises(TypeError, match="a value set is not read inside AnyResourceItem"):
        read(duck, case, tmp_path)


def test_the_item_itself_is_read_as_a_concept_only_inside_a_list() -> None:
    # `Concept("")` is a list item (a reasonCode's concept); at a resource it is a defect
    spec = EpisodeSpec(
        rows=(RowSpec("t", "Observation", InSet(Concept(""), "bleeding"), None, ()),), steps=()
    )
    with pytest.raises(TypeError, match=r'Concept\(""\) is read only inside'):
        read_schema(spec)
