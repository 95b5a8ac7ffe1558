"""The versions of an id ranked only where its (patient, id) repeats (stop 29,
`earlypath.records.own_rows`): the compiled reading of an export whose ids are each sent once
per patient reads the version tables' joins as the resource's own row, and reads every
encounter as the joins did (steps and problems); with some (patient, id) repeated, only their
rows are ranked and joined, the others read as their own row, and every encounter alike.
The versions themselves (a repeated id) are read in `tests/audit/test_fhir_real_scans.py` and
the Spark scenario "finding-versions-per-patient"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import ibis
import pytest

from earlypath.records.definition import READING
from earlypath.records.ibis_compile import _joins, compile_rows, load_resources, run_records
from earlypath.records.kept_count import counted_joined_tables
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


def _once() -> dict[str, list[dict[str, Any]]]:
    # two women sharing an id are two (patient, id) pairs: still each sent once
    export = concatenated([_export(ONCE), shared_ids_export()])
    export["Observation"].append({**_subject_less("no-id"), "id": None})
    export["Observation"].append(_subject_less("alone-unowned"))
    return export


def _some_repeated(folder: Path) -> dict[str, list[Path]]:
    """The export above and the versions of a finding of other women (two files)."""
    write_export(_once(), folder / "once")
    write_files(finding_versions_in_two_files(), folder / "versions")
    files: dict[str, list[Path]] = {}
    for p in [*sorted((folder / "once").glob("*")), *sorted((folder / "versions").glob("*"))]:
        files.setdefault(p.name.split(".")[0], []).append(p)
    return files


def _files(folder: Path) -> dict[str, list[Path]]:
    return {p.stem: [p] for p in sorted(folder.glob("*.ndjson"))}


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[Path]]]:
    """Both exports' files by type, each written once."""
    return {
        "once": _files(write_export(_once(), tmp_path_factory.mktemp("once"))),
        "some-repeated": _some_repeated(tmp_path_factory.mktemp("some-repeated")),
    }


@pytest.fixture(scope="module", params=["once", "some-repeated"])
def export_files(request: Any, exports: dict[str, dict[str, list[Path]]]) -> dict[str, list[Path]]:
    return exports[request.param]


class Reading(NamedTuple):
    """A compiled reading of an export: the version tables counted (unique, repeated; none when
    every version is joined) and each encounter's row with its problems (`episode_rows`)."""

    tables: tuple[frozenset[str], frozenset[str]]
    rows: list[dict[str, Any]]


ReadingOf = Callable[[str, bool], Reading]


@pytest.fixture(scope="module")
def read(exports: dict[str, dict[str, list[Path]]]) -> ReadingOf:
    """``read(export, counted)``: the reading of ``exports[export]`` with its version tables
    counted (the own-row plan where ids are unique) or every version joined, made when first
    asked for. Stop 51: three readings, not four. The "once" export's every-version-joined rows
    are taken from the "some-repeated" export's, which holds the same women (each file of
    "once" first, so with the same keys): her rows read with other women there, under the
    joined plan, are compared with her rows read alone, under the own-row plan."""
    made: dict[tuple[str, bool], Reading] = {}

    def reading(export: str, counted: bool) -> Reading:
        if (export, counted) not in made:
            prefix = "own" if counted else "join"
            tables, out = _reading(ibis.duckdb.connect(), exports[export], prefix, counted)
            made[export, counted] = Reading(tables, episode_rows(*fetched(out)))
        return made[export, counted]

    return reading


def _of_the_once_women(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a reading of the "some-repeated" export that are the "once" export's."""
    once = {e["id"] for e in _once()["Encounter"]}
    mine = [r for r in rows if r["encounter"] in once]
    assert len(mine) == len(once)  # every one of them, each once
    return mine


def _reading(con: Any, files: dict[str, list[Path]], prefix: str, counted: bool) -> Any:
    """Every encounter read as the audit reads it (``counted``), or every version ranked."""
    enc = load_resources(con, files, ENCOUNTERS, f"{prefix}_e")
    e = compile_rows(ENCOUNTERS, enc)[0]["encounters"]
    keys = e.select(_key=e.n, encounter=e.encounter, patient=e.patient, assessed_on=e.assessed_on)
    con.raw_sql(f"CREATE OR REPLACE TABLE {prefix}_keys AS {con.compile(keys)}")
    resources = dict(load_resources(con, files, READING, f"{prefix}_r"))
    unique, repeated = frozenset[str](), frozenset[str]()
    if counted:
        unique, repeated = counted_joined_tables(con, READING, resources)
    out = run_records(
        con,
        READING,
        resources,
        f"{prefix}_keys",
        f"{prefix}_k",
        unique=unique,
        repeated=repeated,
    )
    return (unique, repeated), out


def test_each_encounter_reads_alike_with_versions_ranked_only_where_repeated(
    export_files: dict[str, list[Path]], read: ReadingOf
) -> None:
    versions = len(export_files["Observation"]) > 1
    (unique, repeated), got = read("some-repeated" if versions else "once", True)
    assert (repeated if versions else unique) >= OBSERVATION_TABLES, (unique, repeated)
    joined = read("some-repeated", False).rows  # every version joined
    want = joined if versions else _of_the_once_women(joined)
    assert len(got) == len(want) > len(ONCE)
    for mine, theirs in zip(got, want, strict=True):
        assert mine == theirs, mine["encounter"]
    assert any(r["problems"] for r in got)  # what is compared is read


def test_a_repeated_patient_and_id_is_counted(tmp_path: Path) -> None:
    """One woman's versions of a finding (in two files), or two Observations naming no patient
    under one id: the Observations' version tables rank the repeated pairs."""
    con = ibis.duckdb.connect()
    folder = write_files(finding_versions_in_two_files(), tmp_path / "versions")
    files: dict[str, list[Path]] = {}
    for p in sorted(folder.glob("*.ndjson")):
        files.setdefault(p.name.split(".")[0], []).append(p)
    resources = dict(load_resources(con, files, READING, "v"))
    assert counted_joined_tables(con, READING, resources)[1] >= OBSERVATION_TABLES
    unowned = write_export(
        {**export_of([]), "Observation": [_subject_less("twice"), _subject_less("twice")]},
        tmp_path / "unowned",
    )
    resources = dict(load_resources(con, _files(unowned), READING, "u"))
    assert counted_joined_tables(con, READING, resources)[1] >= OBSERVATION_TABLES


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


def test_a_panels_members_read_their_panels_version_only_where_a_pair_repeats() -> None:
    """Stop 46 (HAZ-01 C01.41): the members of a panel (items read as Observations of their
    own) ask the chosen versions' table whether their panel's version is read. With no id
    repeated that table is empty, and the question folds away (no join: the own-row plan);
    with some repeated, the join stays, whatever the member's own id: the pair it asks of is
    its panel's, not its own (a test of the member's would read every version's members)."""
    (members,) = [r for r in READING.rows if r.items is not None and r.items.container == "_panel"]
    assert "observation_chosen" in {j.table for j in _joins(members)}
    keys = frozenset(joined_keys(READING))
    folded = inline_own_rows(members, READING, keys)
    assert not {j.table for j in _joins(folded)} & OBSERVATION_TABLES
    observations = frozenset(OBSERVATION_TABLES)
    kept = {
        j.table
        for j in _joins(inline_own_rows(members, READING, keys - observations, observations))
    }
    assert "observation_chosen" in kept
    assert not [t for t in kept if t.endswith("__repeated")]  # no test of the member's own pair
