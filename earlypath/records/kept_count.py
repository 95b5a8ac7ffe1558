"""The count of one table of row specs over an export's resources, its SQL kept between runs.

Some readings ask one question before deciding how to read: how many resources name their
patient by an identifier only (`earlypath.audit.fhir_read.identifier_ties`). On an export with
none, that count is all the identifier tie costs, and compiling its row specs and rendering the
count to SQL took about 0.4 s of every FHIR audit. The SQL depends only on the specs, the
backend, the input tables' schemas and the code (as a reading's plan does,
`ibis_compile.run_records`), so it is kept the same way (`plan_cache`), with the tables' names
as placeholders put in on each run. The count is the same number: the same compiled SQL.

Only the rows are counted, so the specs are compiled without their columns (`_rows_only`): a
row is given by its spec's ``when`` (and its items), never by what it holds, and DuckDB does not
drop a column no one reads from the branches of a union. Since stop 26 the identifier's value is
an NHS number read as its digits and checked (`identifiers.identifier_value`): computing it for
every row counted made the count about six times as costly (w12-fhir11).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import ibis.expr.types as ir_t

from earlypath.fhir.codes import load_codes
from earlypath.records import ir as rec
from earlypath.records import plan_cache
from earlypath.records.ibis_compile import compile_rows, repeated_keys, specialised
from earlypath.records.own_rows import joined_keys
from earlypath.records.value_codes import sql_shape, value_code_rows, value_codes_name
from earlypath.records.women import Women

__all__ = ["count_kept", "count_rows", "counted_joined_tables", "unique_joined_tables"]

_VALUE_CODES = "@value_codes@"  # the value sets' code table, if the specs read it
_SQL: dict[tuple[Any, ...], str] = {}  # kept in the process too


def count_rows(
    con: Any, spec: rec.EpisodeSpec, resources: Mapping[str, ir_t.Table], table: str
) -> int:
    """The rows of ``table`` of ``spec``'s row specs (`compile_rows`) over ``resources`` (the
    tables `load_resources` made) on ``con`` (an ibis DuckDB or PySpark backend)."""
    return count_kept(
        con,
        ("count-rows/1", table),
        spec,
        resources,
        lambda: compile_rows(_rows_only(spec), resources)[0][table],
    )


def unique_joined_tables(
    con: Any, spec: rec.EpisodeSpec, resources: Mapping[str, ir_t.Table], women: Women = Women()
) -> frozenset[str]:
    """The tables of ``spec`` a `Joined` reads by (patient, id) (`own_rows.joined_keys`) whose
    key no two resources of ``resources`` share (`counted_joined_tables`)."""
    return counted_joined_tables(con, spec, resources, women)[0]


def counted_joined_tables(
    con: Any, spec: rec.EpisodeSpec, resources: Mapping[str, ir_t.Table], women: Women = Women()
) -> tuple[frozenset[str], frozenset[str]]:
    """The tables of ``spec`` a `Joined` reads by (patient, id) (`own_rows.joined_keys`) whose
    key no two resources of ``resources`` share, and those whose key some share. The compiled
    reading reads the joins of the first as the resource's own row (`ibis_compile.compile_rows`,
    ``unique``: no version ranked), and ranks only the repeated pairs of the others
    (``repeated``), stop 29. One kept count a key (a resource type, its patient and id): the
    (patient, id) pairs repeated. With ``women`` (the export's merges and identifier ties, as
    the reading is given them), the patient is the woman (`Women.of`): a pair that repeats only
    across her merged records is counted (stop 30; HAZ-20 C20.20). A small export
    (`plan_choice`) is given the general plan, every version ranked: nothing is counted."""
    if not specialised(resources):
        return frozenset(), frozenset()
    keys = joined_keys(spec)
    unique: set[str] = set()
    repeated: set[str] = set()
    for key in dict.fromkeys(keys.values()):
        tables = sorted(t for t, k in keys.items() if k == key)
        resource = key[0]
        if resource not in resources:
            continue
        count = count_kept(
            con,
            ("repeated-keys/1", tables[0]),
            spec,
            {resource: resources[resource], **women.tables()},
            lambda key=key: repeated_keys(spec, resources, key, women),  # type: ignore[misc]
        )
        (repeated if count else unique).update(tables)
    return frozenset(unique), frozenset(repeated)


def count_kept(
    con: Any,
    what: tuple[Any, ...],
    spec: Any,
    tables: Mapping[str, ir_t.Table],
    build: Callable[[], ir_t.Table],
) -> int:
    """The rows of the table ``build`` makes of ``tables`` (stored tables, by a name of the
    caller's), its count's SQL kept under ``what`` and ``spec`` (all the build depends on but
    the tables' schemas, the value sets and the code; ``spec`` is looked up in the process by
    identity, a large definition is not hashed on every call) with the tables' names as
    placeholders. ``build`` is called only when no SQL is kept."""
    inputs = {f"@in_{r}@": t.get_name() for r, t in tables.items()}
    key = (
        *what,
        con.name,
        tuple(sorted((r, tuple(t.schema().items())) for r, t in tables.items())),
        sql_shape(load_codes()),
    )
    sql = _SQL.get((id(spec), *key))
    if sql is None:
        disk_key = plan_cache.plan_key(spec, key)
        kept = plan_cache.load_plan(disk_key)
        if kept is not None and isinstance(kept.get("count"), str):
            sql = str(kept["count"])
        else:
            sql = _compile(con, build(), inputs)
            plan_cache.save_plan(disk_key, {"count": sql})
        _SQL[(id(spec), *key)] = sql
    names = dict(inputs)
    if _VALUE_CODES in sql:  # registered as the reading registers it (`value_codes_table`)
        from earlypath.records.value_codes import value_codes_table

        names[_VALUE_CODES] = value_codes_table(con).get_name()
    for placeholder, name in names.items():
        sql = sql.replace(placeholder, name)
    if con.name == "pyspark":
        return int(con._session.sql(sql).collect()[0][0])
    return int(con.raw_sql(sql).fetchall()[0][0])


def _compile(con: Any, rows: ir_t.Table, inputs: dict[str, str]) -> str:
    """The count's SQL, each input table's name (and the code table's) a placeholder."""
    sql = str(con.compile(rows.aggregate(count=rows.count())))
    names = {name: placeholder for placeholder, name in inputs.items()}
    names[value_codes_name(value_code_rows(load_codes()))] = _VALUE_CODES
    for name, placeholder in names.items():
        for quote in ('"', "`"):
            sql = sql.replace(f"{quote}{name}{quote}", f"{quote}{placeholder}{quote}")
    return sql


def _rows_only(spec: rec.EpisodeSpec) -> rec.EpisodeSpec:
    """``spec``'s row specs as they give rows, without what the rows hold: no column, patient or
    check (a row spec with items keeps its columns: an item's columns may be read by them)."""
    return rec.EpisodeSpec(
        tuple(
            row
            if row.items is not None
            else dataclasses.replace(row, patient=None, columns=(), checks=())
            for row in spec.rows
        ),
        (),
    )
