"""The clinical rows' SQL of the audit's reading, compiled once a process for the tests that
read its text (test_row_filter_bare.py, test_value_set_join.py). The compile is the same for
each of them (no files, the schema's empty tables) and costs tens of seconds in CI; the text
depends on the definition only, which no test changes in place."""

from __future__ import annotations

import functools

import ibis

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import ir as rec
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import Keep, compile_rows, load_resources, materializer


def stored_but(con: object, spec: rec.EpisodeSpec, table: str) -> Keep:
    """The other tables of the spec stored as the audit stores them (`materializer`): the plan
    of ``table`` alone, reading a table it joins (`report_reads`, for the scan reports that
    could not be read) from where it is kept, its own parts (a view per row spec, the value
    sets' code tables) inline as before."""
    keep = materializer(con, "kept")
    others = {r.table for r in spec.rows} - {table}
    return lambda t, name: keep(t, name) if name in others else t


def table_sql(spec: rec.EpisodeSpec, table: str) -> str:
    """The DuckDB SQL of one table of ``spec``, the others stored (`stored_but`)."""
    con = ibis.duckdb.connect()
    resources = load_resources(con, {}, spec, "t")  # no files: empty tables, same schema
    tables, _, _ = compile_rows(spec, resources, stored_but(con, spec, table))
    return str(con.compile(tables[table]))


@functools.cache
def clinical_sql() -> str:
    """`table_sql` of the audit's clinical rows (`READING`), kept for the process: a string,
    so no test can change what another reads."""
    return table_sql(READING, "clinical")
