"""A FHIR export audited on Spark is read on Spark (the one definition compiled for it, and the
audit's own cells of `earlypath.audit.fhir_read`) and agrees row for row with DuckDB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

import earlypath.audit.fhir_flat as fhir_flat
import earlypath.audit.fhir_read as fhir_read
from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_read import flatten_fhir_duckdb, read_fhir_export
from earlypath.audit.run import run_audit
from earlypath.fhir.pregnancy import EXCLUDED_MALE, EXCLUDED_NOT_PREGNANT
from earlypath.synth.cohort import generate_chunks
from earlypath.synth.fhir_export import write_fhir

PRENATAL = {"coding": [{"system": "http://snomed.info/sct", "code": "424441002"}]}


def _append(path: Path, *resources: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in resources)


def _encounter(eid: str, pid: str, **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": eid,
        "subject": {"reference": f"Patient/{pid}"},
        **more,
    }


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50 synthetic patients, and: a man's prenatal visit, a woman's visit with no sign of a
    pregnancy, one with no day (rejected), and a prenatal visit of a woman with ethnicity and
    deprivation recorded (the typed visit is her only evidence of a pregnancy)."""
    folder = tmp_path_factory.mktemp("export")
    write_fhir(generate_chunks(50, seed=12), folder)
    eth = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
    _append(
        folder / "Patient.ndjson",
        {"resourceType": "Patient", "id": "man", "gender": "male", "birthDate": "1980-01-01"},
        {"resourceType": "Patient", "id": "plain", "gender": "female", "birthDate": "1999-06-01"},
        {
            "resourceType": "Patient",
            "id": "typed",
            "gender": "female",
            "birthDate": "2001-02-03",
            "extension": [
                {"url": eth, "valueCodeableConcept": {"coding": [{"display": "Irish"}]}},
                {"url": "urn:earlypath:imd-quintile", "valueInteger": 2},
            ],
        },
    )
    day = {"period": {"start": "2024-03-04T10:00:00Z"}}
    _append(
        folder / "Encounter.ndjson",
        _encounter("x-man", "man", type=[PRENATAL], **day),
        _encounter("x-plain", "plain", **day),
        _encounter("x-nodate", "plain", type=[PRENATAL]),
        _encounter(
            "x-typed",
            "typed",
            type=[PRENATAL],
            **day,
            serviceProvider={"reference": "Organization/site-x"},
        ),
    )
    return folder


def test_duckdb_flattening_is_the_shared_reading(export: Path) -> None:
    """`flatten_fhir_duckdb` is `read_fhir_export` on DuckDB (no second copy of the audit-only
    cells): the same rows, counts and cells, and its view of the episodes."""
    files = discover_export(export, fhir_flat.RESOURCES)
    con = ibis.duckdb.connect()
    reading = flatten_fhir_duckdb(con, files, "raw")
    old = con.table("raw").order_by("row_number").to_pyarrow()
    table, shared = read_fhir_export(ibis.duckdb.connect(), files, "rd")
    new = table.to_pyarrow()
    assert new.schema == old.schema
    assert new.to_pylist() == old.to_pylist()
    assert shared.excluded == reading.excluded == {EXCLUDED_MALE: 1, EXCLUDED_NOT_PREGNANT: 1}
    assert shared.encounters == reading.encounters == 54
    typed = next(r for r in new.to_pylist() if r["episode_id"] == "x-typed")
    assert (
        typed["site"],
        typed["age_band"],
        typed["ethnicity"],
        typed["deprivation_quintile"],
    ) == ("site-x", "20-24", "Irish", 2)


def _rows(out: Path) -> list[dict[str, Any]]:
    return pq.read_table(out / "episodes.parquet").to_pylist()


@pytest.mark.spark
def test_spark_audits_the_export_as_duckdb_does_without_duckdb_reading_it(
    export: Path, tmp_path: Path, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    duck = run_audit(export, tmp_path / "d", engine="duckdb")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the Spark audit flattened the export with DuckDB")

    monkeypatch.setattr(fhir_read, "flatten_fhir_duckdb", refuse)
    on_spark = run_audit(export, tmp_path / "s", engine="spark", spark=spark)
    assert (on_spark.rows_in, on_spark.evaluated, on_spark.rejected, on_spark.excluded) == (
        duck.rows_in,
        duck.evaluated,
        duck.rejected,
        duck.excluded,
    )
    assert duck.rejected == 1 and duck.excluded == 2 and duck.rows_in == 54
    s, d = _rows(tmp_path / "s"), _rows(tmp_path / "d")
    assert len(s) == len(d) == duck.evaluated
    assert s == d
    assert (tmp_path / "s" / "rejects.csv").read_text() == (
        tmp_path / "d" / "rejects.csv"
    ).read_text()
    summary = [json.loads((tmp_path / o / "summary.json").read_text()) for o in ("s", "d")]
    assert summary[0]["reconciliation"] == summary[1]["reconciliation"]


@pytest.mark.spark
def test_spark_reads_a_line_of_another_type_as_its_own_type_as_duckdb_does(
    tmp_path: Path, spark: Any
) -> None:
    """An ectopic Condition inside an Observation part (with a line of no resourceType): seen on
    Spark as on DuckDB (no offer), and counted alike."""
    from tests.integration.fhir_data import eligible_resources
    from tests.records.real_shapes import ectopic_today, export_of

    folder = tmp_path / "in"
    folder.mkdir()
    export = export_of(eligible_resources())
    observations = export.pop("Observation")
    export["Observation.000"] = observations
    export["Observation.001"] = [ectopic_today(), {"id": "no-type"}]
    for name, resources in export.items():
        _append(folder / f"{name}.ndjson", *resources)
    run_audit(folder, tmp_path / "d", engine="duckdb")
    run_audit(folder, tmp_path / "s", engine="spark", spark=spark)
    s, d = _rows(tmp_path / "s"), _rows(tmp_path / "d")
    assert s == d and [r["decision"] for r in s] == ["do_not_offer"]
    summary = [json.loads((tmp_path / o / "summary.json").read_text()) for o in ("s", "d")]
    other = summary[0]["fhir_export"]["lines_of_another_type"]
    assert other == summary[1]["fhir_export"]["lines_of_another_type"]
    assert [(o["file"], o["resourceType"], o["read_as"]) for o in other] == [
        ("Observation.001.ndjson", "Condition", "Condition"),
        ("Observation.001.ndjson", None, None),
    ]


@pytest.mark.spark
def test_spark_reads_a_condition_inside_a_skipped_file_as_duckdb_does(
    tmp_path: Path, spark: Any
) -> None:
    """An ectopic Condition inside a gzipped Claim file and one in a file whose name gives no
    type: seen on Spark as on DuckDB (no offer), and counted alike."""
    import gzip

    from tests.integration.fhir_data import condition, day, eligible_resources
    from tests.records.real_shapes import ectopic_today, export_of

    folder = tmp_path / "in"
    folder.mkdir()
    for name, resources in export_of(eligible_resources()).items():
        _append(folder / f"{name}.ndjson", *resources)
    claims = [{"resourceType": "Claim", "id": "c1"}, ectopic_today()]
    text = "".join(json.dumps(r) + "\n" for r in claims)
    (folder / "Claim.ndjson.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    _append(folder / "data.ndjson", {"eventId": "x"}, condition("ect-2", "79586000", day()))
    run_audit(folder, tmp_path / "d", engine="duckdb")
    run_audit(folder, tmp_path / "s", engine="spark", spark=spark)
    s, d = _rows(tmp_path / "s"), _rows(tmp_path / "d")
    assert s == d and [r["decision"] for r in s] == ["do_not_offer"]
    summary = [json.loads((tmp_path / o / "summary.json").read_text()) for o in ("s", "d")]
    assert summary[0]["fhir_export"] == summary[1]["fhir_export"]
    other = summary[0]["fhir_export"]["lines_of_another_type"]
    assert [(o["file"], o["file_type"], o["lines"], o["read_as"]) for o in other] == [
        ("Claim.ndjson.gz", "Claim", 1, "Condition"),
        ("data.ndjson", None, 1, "Condition"),
    ]
