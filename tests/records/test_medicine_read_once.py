"""A methotrexate spec reads what its record says of its medicine (`definition._MEDICINE_SAYS`)
once in its filter: the answer is a ranked number (`SAYS_*`) compared once with the rank the
reference's display asks for. As words ranked by a `Lookup`, the compiled CASE wrote the whole
reading (a contained Medication's lambdas, the display's match) once a word: five times in the
filter, a third of the medicines' clinical SQL (stop 40, w-medfold40). What the rows read is the
history, engines-agree and CDS methotrexate tests'."""

from __future__ import annotations

import dataclasses

import ibis

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import compile_rows, load_resources

# the reference's display tested for the word: a part of the medicine's reading written once a copy
_DISPLAY_MATCHED = """medicationReference__display__str", '')), '(^|[^a-z0-9])methotrexate"""


def test_the_medicine_is_read_once_in_the_filter_and_once_for_the_columns() -> None:
    spec = next(
        r
        for r in READING.rows
        if r.table == "clinical"
        and r.resource == "MedicationRequest"
        and any(name == "missing_medication" for name, _ in r.columns)
    )
    medications = tuple(r for r in READING.rows if r.table == "medications")
    con = ibis.duckdb.connect()
    resources = load_resources(con, {}, READING, "t")  # no files: empty tables, same schema
    tables, _, _ = compile_rows(dataclasses.replace(READING, rows=(*medications, spec)), resources)
    sql = str(con.compile(tables["clinical"]))
    # once in the rows' filter, once as the shared part the columns read (location, problem)
    assert sql.count(_DISPLAY_MATCHED) == 2
