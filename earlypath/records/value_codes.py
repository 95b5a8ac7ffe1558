"""The value sets' codes as a table of the engine, for the compiled reading to join.

Every code of every value set (`earlypath.fhir.codes.load_codes`: each name of its system and
the undotted ICD-10 form included, with the site's codes of ``$EARLYPATH_VALUESETS``) is one row
(value_set, system, code, at_least) of a table registered on the connection: a DuckDB temp table
filled from bound parameters, a Spark temporary view of a DataFrame. The compiled SQL names the
table and joins it; it holds no code. Spark's parser has refused a 4 MB statement, and the codes
written out as literals were most of the largest statements (92k characters of the 97k one); now
a statement's size does not grow with the value sets.

The table's name carries a digest of its rows: a table once registered never changes, so an
expression compiled earlier still reads the codes it was compiled with. The SQL still depends on
the sets' words (a regular expression each) and on which sets the definition tests; that, not the
codes, is what a plan kept on disk is keyed on (`sql_shape`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from earlypath.fhir.codes import CodeSet, load_codes

if TYPE_CHECKING:  # ibis is the batch engines' only: the CDS service imports this module too
    import ibis.expr.types as ir_t

__all__ = [
    "VALUE_CODES_SCHEMA",
    "sql_shape",
    "value_code_rows",
    "value_codes_name",
    "value_codes_table",
    "of_sets",
]

VALUE_CODES_SCHEMA = {
    "value_set": "string",
    "system": "string",
    "code": "string",
    "at_least": "int64",
}
_PREFIX = "earlypath_value_codes_"

Row = tuple[str, str, str, int | None]


def value_code_rows(codes: Mapping[str, CodeSet]) -> list[Row]:
    """(value set, system, code, at least n or None) of every code, sorted."""
    return sorted(
        (name, system, code, value_set.at_least.get((system, code)))
        for name, value_set in codes.items()
        for system, code in value_set.codes
    )


def value_codes_name(rows: list[Row]) -> str:
    """The table's name: the same rows, the same name, in every process."""
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()[:20]
    return _PREFIX + digest


def sql_shape(codes: Mapping[str, CodeSet]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """What of the value sets the compiled SQL holds: each set's name and words (the codes are
    read from the table)."""
    return tuple(sorted((name, value_set.words) for name, value_set in codes.items()))


def value_codes_table(con: Any) -> Any:
    """The code table of the value sets as they are now, registered on ``con`` (an ibis DuckDB
    or PySpark backend) unless it is there already (ibis backends of one kind compare equal:
    what was registered is asked of the connection itself)."""
    rows = value_code_rows(load_codes())
    name = value_codes_name(rows)
    _register(con, name, rows)
    return con.table(name)


def _register(con: Any, name: str, rows: list[Row]) -> None:
    if con.name == "pyspark":
        if not con._session.catalog.tableExists(name):
            schema = ", ".join(
                f"{k} {'bigint' if t == 'int64' else t}" for k, t in VALUE_CODES_SCHEMA.items()
            )
            frame = con._session.createDataFrame(rows, schema=schema)
            # Stored in the JVM once: a DataFrame of a Python list is a Python RDD, and every
            # Spark job that scanned the view (each statement matching codes) sent its rows
            # through a Python worker process again (docs/speed.md, stop 49).
            frame.localCheckpoint(eager=True).createOrReplaceTempView(name)
        return
    columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[], [], [], []]
    # the codes are bound as four lists, never written into the statement
    sql_types = {"string": "VARCHAR", "int64": "BIGINT"}
    cells = ", ".join(
        f"unnest(${i + 1}::{sql_types[t]}[]) AS {k}"
        for i, (k, t) in enumerate(VALUE_CODES_SCHEMA.items())
    )
    con.con.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{name}" AS SELECT {cells}', columns)


# DuckDB rewrites an IN of more constants than this into a mark join against a list of them
# (its in-clause rewriter, at five), a subplan its common-subplan optimiser then materialises as
# a CTE where two specs of a statement list the same sets (stop 39: the methotrexate rows of
# MedicationRequest and MedicationStatement, five sets each). Groups of at most four stay a
# filter on the table's scan.
_IN_GROUP = 4


def of_sets(value_codes: ir_t.Table, names: Iterable[str]) -> ir_t.Table:
    """The rows of ``value_codes`` (`value_codes_table`) of the sets ``names``: a filter of the
    names in sorted groups of at most `_IN_GROUP` (``value_set IN (...) OR value_set IN (...)``)."""
    ordered = sorted(set(names))
    groups = [ordered[i : i + _IN_GROUP] for i in range(0, len(ordered), _IN_GROUP)]
    column = value_codes["value_set"]
    test = column.isin(groups[0])
    for group in groups[1:]:
        test = test | column.isin(group)
    return value_codes.filter(test)
