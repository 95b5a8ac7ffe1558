"""The versions of an id read without a join where no (patient, id) repeats (stop 29,
`earlypath.records.own_rows`): the compiled reading of an export whose ids are each sent once
per patient reads the version tables' joins as the resource's own row, and reads every
encounter as the joins did (steps and problems); one repeated (patient, id) keeps the joins.
The versions themselves (a repeated id) are read in `tests/audit/test_fhir_real_scans.py` and
the Spark scenario "finding-versions-per-patient"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pytest

from earlypath.records.definition import READING
from earlypath.records.ibis_compile import _joins, compile_rows, load_resources, run_records
from earlypath.records.kept_count import unique_joined_tables
from earlypath.records.own_rows import inline_own_rows, joined_keys
from tests.audit.test_fhir_real_scans import (
    _export,
    finding_versions_in_two_files,
    shared_ids_export,
    write_files,
)
from tests.fhir_exports import concatenated, write_export
from tests.records.real_shapes import COMPONENT_SHAPES, export_of, with_panel
from tests.records.scan_shapes import (
    CONTAINED_CASES,
    SCAN_AS_CONDITION,
    SCAN_DATING,
    SCAN_REPORTS,
    SCAN_STATUS,
)
from tests.records.test_ibis_export import ENCOUNTERS, episode_rows, fetched

OBSERVATION_TABLES = {"observation_versions", "observation_tops", "observation_chosen"}
# each id once per woman: scans of every kind, panels (item rows), contained findings
ONCE = {
    **SCAN_STATUS,
    **SCAN_AS_CONDITION,
    **SCAN_DATING,
    **SCAN_REPORTS,
    **CONTAINED_CASES,
    **{f"panel-{s}": (with_panel(s), "") for s in sorted(COMPONENT_SHAPES)},
}


def _subject_less(rid: str) -> dict[str, Any]:
    """An Observation naming no patient: two of one id are one (patient, id), "" (stop 28)."""
    return {"resourceType": "Observation", "id": rid, "status": "final", "code": {"text": "x"}}


@pytest.fixture(scope="module")
def once_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # two women sharing an id are two (patient, id) pairs: still each sent once
    export = concatenated([_export(ONCE), shared_ids_export()])
    export["Observation"].append({**_subject_less("no-id"), "id": None})
    export["Observation"].append(_subject_less("alone-unowned"))
    return write_export(export, tmp_path_factory.mktemp("once"))


def _reading(con: Any, folder: Path, prefix: str, unique: frozenset[str] | None) -> Any:
    """Every encounter of ``folder`` read as the audit reads it (``unique`` None: counted)."""
    files = {p.stem: [p] for p in sorted(folder.glob("*.ndjson"))}
    enc = load_resources(con, files, ENCOUNTERS, f"{prefix}_e")
    e = compile_rows(ENCOUNTERS, enc)[0]["encounters"]
    keys = e.select(_key=e.n, encounter=e.encounter, patient=e.patient, assessed_on=e.assessed_on)
    con.raw_sql(f"CREATE OR REPLACE TABLE {prefix}_keys AS {con.compile(keys)}")
    resources = dict(load_resources(con, files, READING, f"{prefix}_r"))
    if unique is None:
        unique = unique_joined_tables(con, READING, resources)
    out = run_records(con, READING, resources, f"{prefix}_keys", f"{prefix}_k", unique=unique)
    return unique, out


def test_an_export_of_ids_sent_once_reads_alike_without_the_joins(once_folder: Path) -> None:
    con = ibis.duckdb.connect()
    unique, inlined = _reading(con, once_folder, "own", None)
    assert unique >= OBSERVATION_TABLES, unique
    _, joined = _reading(con, once_folder, "join", frozenset())
    got, want = episode_rows(*fetched(inlined)), episode_rows(*fetched(joined))
    assert len(got) == len(want) > len(ONCE)
    for mine, theirs in zip(got, want, strict=True):
        assert mine == theirs, mine["encounter"]
    assert any(r["problems"] for r in got)  # what is compared is read


def test_a_repeated_patient_and_id_keeps_the_joins(tmp_path: Path) -> None:
    """One woman's versions of a finding (in two files), or two Observations naming no patient
    under one id: the Observations' version tables are joined, as at stop 28."""
    con = ibis.duckdb.connect()
    folder = write_files(finding_versions_in_two_files(), tmp_path / "versions")
    files: dict[str, list[Path]] = {}
    for p in sorted(folder.glob("*.ndjson")):
        files.setdefault(p.name.split(".")[0], []).append(p)
    resources = dict(load_resources(con, files, READING, "v"))
    assert not OBSERVATION_TABLES & unique_joined_tables(con, READING, resources)
    unowned = write_export(
        {**export_of([]), "Observation": [_subject_less("twice"), _subject_less("twice")]},
        tmp_path / "unowned",
    )
    files = {p.stem: [p] for p in sorted(unowned.glob("*.ndjson"))}
    resources = dict(load_resources(con, files, READING, "u"))
    assert not OBSERVATION_TABLES & unique_joined_tables(con, READING, resources)


def test_the_observation_rows_join_no_version_table_when_ids_are_unique() -> None:
    """Every join of an Observation's version tables goes (the clinical rows' and the version
    tables' own); a scan report's contained findings (item rows read as resources of their own)
    keep theirs."""
    keys = joined_keys(READING)
    assert set(keys) >= OBSERVATION_TABLES
    for row in READING.rows:
        inlined = inline_own_rows(row, READING, frozenset(keys))
        joined = {j.table for j in _joins(inlined)}
        if row.resource == "Observation":
            assert not joined & OBSERVATION_TABLES, (row.table, joined)
        elif row.items is not None and row.items.container:
            assert joined == {j.table for j in _joins(row)}, row.table
