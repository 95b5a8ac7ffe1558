"""The one definition compiled over a whole bulk export gives, on Spark, the very episodes it gives
on DuckDB (row for row, every step and every problem), and on DuckDB the facts the audit has always read."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import ibis
import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.audit.fhir_read import _as_survivor, _merged_table
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import (
    CompiledRecords,
    compile_rows,
    load_resources,
    run_records,
)
from earlypath.records.ir import Day, EpisodeSpec, Field, RefId, RowSpec
from earlypath.records.kept_count import counted_joined_tables
from earlypath.records.merges import Merges
from earlypath.rules.ir import Const
from earlypath.synth.cohort import generate_chunks
from earlypath.synth.fhir_export import write_fhir

# The encounters an audit reads, as rows of the same IR (its day, its patient).
ENCOUNTERS = EpisodeSpec(
    rows=(
        RowSpec(
            "encounters",
            "Encounter",
            Const(True),
            RefId(Field("subject.reference", "str"), "Patient"),
            (("encounter", Field("id", "str")), ("assessed_on", Day(Field("period.start", "str")))),
        ),
    ),
    steps=(),
)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    write_fhir(generate_chunks(60, seed=5), folder)
    return folder


def compiled_reading(
    con: Any, folder: Path, prefix: str, merges: Merges | None = None
) -> CompiledRecords:
    """The one definition compiled over the export in ``folder``, every encounter keyed; with
    ``merges``, the records merged into another read as the surviving one's, as the audit
    reads them (`earlypath.audit.fhir_read`).

    Every row spec is compiled, whichever types have no line: the plan that leaves those out
    (`LoadedResources.absent`) is the audit's, and reads the same (`test_absent_types.py`); here
    a generated export would draw a new set of absent types, and so a new plan to compile
    (seconds each), almost every time."""
    files = {p.stem: [p] for p in sorted(folder.glob("*.ndjson"))}
    enc = load_resources(con, files, ENCOUNTERS, f"{prefix}_e")
    rows, _, _ = compile_rows(ENCOUNTERS, enc)
    e = rows["encounters"]
    merged = None
    if merges is not None and merges.survivor:
        merged = _merged_table(con, f"{prefix}_merged", merges)
        e = _as_survivor(e, con.table(merged))
    keys = e.select(_key=e.n, encounter=e.encounter, patient=e.patient, assessed_on=e.assessed_on)
    sql = str(con.compile(keys))
    if con.name == "pyspark":
        con._session.sql(sql).createOrReplaceTempView(f"{prefix}_keys")
    else:
        con.raw_sql(f"CREATE OR REPLACE TABLE {prefix}_keys AS {sql}")
    resources = dict(load_resources(con, files, READING, f"{prefix}_r"))  # (absent: not said)
    # as the audit reads it: the joins of versions read as the resource's own row where no
    # (patient, id) repeats (`unique_joined_tables`, stop 29)
    unique, repeated = counted_joined_tables(con, READING, resources)
    out = run_records(
        con,
        READING,
        resources,
        f"{prefix}_keys",
        f"{prefix}_k",
        merged=merged,
        unique=unique,
        repeated=repeated,
    )
    assert out.episodes is not None
    return out


def fetched(out: CompiledRecords) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A compiled reading's episodes (key, encounter, patient, steps; in key order) and its
    problems, fetched once (each fetch is an action of the engine)."""
    assert out.episodes is not None
    steps = [name for name, _ in READING.steps]
    episodes = out.episodes.select("_key", "encounter", "patient", *steps).order_by("_key")
    return episodes.to_pyarrow().to_pylist(), out.problems.to_pyarrow().to_pylist()


def episodes(con: Any, folder: Path, prefix: str) -> list[dict[str, Any]]:
    return episode_rows(*fetched(compiled_reading(con, folder, prefix)))


def episode_rows(
    rows: list[dict[str, Any]], problems: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each encounter's row (key, encounter, patient, steps) with what is reported for it: its own
    problems and its patient's resources'."""
    got = []
    for r in rows:
        r = {**r}
        r["problems"] = sorted(
            (p["ref"], p["message"])
            for p in problems
            if p["encounter"] == r["_key"]
            or (p["encounter"] is None and p["patient"] == r["patient"])
        )
        got.append(_plain(r))
    return got


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def test_the_export_reads_every_encounter_on_duckdb(export: Path) -> None:
    got = episodes(ibis.duckdb.connect(), export, "duck")
    assert len(got) == 60
    assert all(e["pregnancy_signs"] for e in got)  # the synthetic encounters are pregnancies
    assert any(e["scans"] for e in got) and any(e["allergies"] for e in got)


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).
