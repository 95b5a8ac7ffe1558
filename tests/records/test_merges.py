"""Merged patient records (FHIR R4 Patient.link) are read once (`PATIENT_LINKS`, the same rows on
the Python engine and on DuckDB) and resolved once (`earlypath.records.merges.resolve`): either
side's link, chains, cycles and a record merged into two records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records.definition import MERGE_LINKS
from earlypath.records.ibis_compile import compile_rows, load_resources
from earlypath.records.merges import CONFLICT_MESSAGE, CYCLE_MESSAGE, resolve
from earlypath.records.python import read_rows
from tests.records.merge_shapes import one_export


def _rows(*links: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"patient": p, "other": o, "kind": k} for p, o, k in links]


def test_either_side_of_a_merge_and_a_chain_resolve_to_the_record_in_use() -> None:
    # a into b (both sides say so), then b into d (d's side only)
    got = resolve(_rows(("a", "b", "replaced-by"), ("b", "a", "replaces"), ("d", "b", "replaces")))
    assert got.survivor == {"a": "d", "b": "d"}
    assert got.unresolved == {}
    assert got.merged_into("d") == ["a", "b"]


def test_a_cycle_and_a_record_merged_twice_are_named_and_not_merged() -> None:
    cycle = resolve(_rows(("a", "b", "replaced-by"), ("a", "b", "replaces")))
    assert cycle.survivor == {} and cycle.unresolved == {"a": CYCLE_MESSAGE, "b": CYCLE_MESSAGE}
    twice = resolve(
        _rows(("a", "b", "replaced-by"), ("c", "a", "replaces"), ("x", "a", "replaced-by"))
    )
    assert twice.survivor == {}
    assert twice.unresolved == {p: CONFLICT_MESSAGE for p in ("a", "b", "c", "x")}


def test_links_that_merge_nothing_are_counted_by_type() -> None:
    got = resolve(
        _rows(("a", "b", "seealso"), ("a", "c", "refer"), ("a", None, "replaced-by"))  # type: ignore[arg-type]
    )
    assert (got.survivor, got.unresolved) == ({}, {})
    assert got.not_used == {"refer": 1, "replaced-by": 1, "seealso": 1}


def test_duckdb_reads_the_links_as_the_python_engine_does(tmp_path: Path) -> None:
    patients = one_export()["Patient"]
    patients.append({"resourceType": "Patient", "id": "odd", "link": [{"type": "replaces"}, "x"]})
    (tmp_path / "Patient.ndjson").write_text("".join(json.dumps(p) + "\n" for p in patients))
    con = ibis.duckdb.connect()
    resources = load_resources(con, {"Patient": [tmp_path / "Patient.ndjson"]}, MERGE_LINKS, "m")
    rows, _, _ = compile_rows(MERGE_LINKS, resources)
    columns = ("patient", "other", "kind", "ref", "n")
    compiled = rows["patient_links"].select(*columns).order_by(["n", "other"]).to_pyarrow()
    expected = read_rows(MERGE_LINKS, patients).tables["patient_links"]
    key = lambda r: (r["n"], r["other"] or "")  # noqa: E731
    assert sorted(compiled.to_pylist(), key=key) == sorted(
        ({c: r[c] for c in columns} for r in expected), key=key
    )
    assert resolve(expected).survivor  # the shapes merge records
