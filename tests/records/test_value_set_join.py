"""The batch engines test a concept's value sets once: each coding looked up by a join to a
(concept, system, code, sets) table, not once per set by a list test (docs/speed.md, the FHIR
audit, round 4). What it reads is the same: tests/records/node_cases.py ("inset ...") through
both engines, and tests/records/test_engines_agree.py."""

from __future__ import annotations

import dataclasses
import re

import ibis

from earlypath.fhir.codes import code_set
from earlypath.records import ir as rec
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import (
    _at_least_pairs,
    _code_masks,
    compile_rows,
    load_resources,
)
from tests.records.clinical_sql import clinical_sql


def _parts(row: rec.RowSpec) -> int:
    """How many tables a row spec's rows come from before their union."""
    return _tables(row.items)


def _tables(items: rec.ItemRows | None) -> int:
    """A resource's own rows (none where its items are read whole or in full, as a report's
    conclusions and contained findings are), then its items' (and theirs: ``then``)."""
    if items is None:
        return 1
    own = 0 if items.whole is not None or items.container is not None else 1
    return own + _tables(items.then)


def test_the_clinical_rows_look_each_coding_up_once() -> None:
    """Each row spec's concepts are looked up once a part. The held scan finding's row (HAZ-20
    C20.19: does any component give a location?) reads its components' codings by a list of
    the row (`_with_found`); unnested from the masked rows, its own masks were written out once
    more for each list read (20 bit_ors, not 16: stop 29's strict xfail; stop 30)."""
    sql = clinical_sql()  # the same text test_row_filter_bare.py reads, compiled once
    specs = [r for r in READING.rows if r.table == "clinical"]
    concepts = sum(len(_code_masks(r)) for r in specs)
    assert concepts >= 4  # Condition: code and statuses; Observation: code and value
    # one bit_or of the sets per concept of each row spec, for its resources and (a spec with
    # `rec.ItemRows`) its item rows apart: masked before their union (test_item_rows_plan.py);
    # a spec whose items are read whole (a report's conclusions) gives only the items' rows
    # a spec whose resource, concept (its sets) and item rows are another's shares that one's
    # masks: the same expression, written once (the methotrexate named by an exported
    # Medication reads its medicine's and reason's codings as the other methotrexate specs do)
    looked_up = {
        (r.resource, repr(concept), tuple(sorted(bits.items())), repr(r.items)): _parts(r)
        for r in specs
        for concept, bits in _code_masks(r).items()
    }
    parts = sum(looked_up.values())
    # (the code table's own bit_or, of its `_bit`s, is per row spec, not per concept)
    assert len(re.findall(r"\bBIT_OR\([^()]*\"_cb\"\)", sql, re.IGNORECASE)) == parts
    # no code of a set tested by a list of its codes (each list test once per set and row)
    (system, code) = sorted(code_set("bleeding").codes)[0]
    listed = re.findall(r"ARRAY_CONTAINS\(\[[^\]]*'" + re.escape(code) + "'", sql)
    assert listed == []


def test_every_set_of_a_concept_has_its_own_bit() -> None:
    for row in READING.rows:
        for concept, bits in _code_masks(row).items():
            assert isinstance(concept, rec.Concept)
            assert sorted(bits.values()) == list(range(len(bits)))


def test_at_least_reads_the_codings_place_without_a_lateral_join() -> None:
    """`AtLeast` (a Condition's code, no item rows) needs each coding's place in its list: it is
    put into the list before the unnest, not by ibis's unnest(offset=), whose
    ``UNNEST(LIST_ZIP(...))`` DuckDB plans as a lateral join with hash tables of every row's
    codings that did not fit under the flattening's memory cap (tests/audit/test_fhir_memory.py;
    docs/speed.md, FHIR round 8); and the first listed coding's count is an arg_min (two
    integers of state, written out under a cap), not the least of a struct."""
    conditions = tuple(
        r
        for r in READING.rows
        if r.table == "clinical" and r.items is None and r.resource == "Condition"
    )
    assert any(_at_least_pairs(r) for r in conditions)
    con = ibis.duckdb.connect()
    resources = load_resources(con, {}, READING, "t")
    tables, _, _ = compile_rows(dataclasses.replace(READING, rows=conditions), resources)
    sql = str(con.compile(tables["clinical"]))
    assert "UNNEST(" in sql.upper()
    assert "LIST_ZIP(" not in sql.upper()
    assert re.search(r"\b(ARG_MIN|MIN_BY)\(", sql, re.IGNORECASE)
