"""The FHIR audit reads scan results as hospitals send them as the CDS service does (issue 12,
real records; `tests.records.scan_shapes`), on DuckDB, the Python engine and Spark alike: an
encounter whose only intrauterine finding is preliminary is "needs information", not "offer" (it
was: an offer not yet confirmed, counted as care a woman should have had), an amended or
corrected one confirms it, and a finding dated by effectiveInstant, a period's start or end, or
issued only is dated. A scan report's (DiagnosticReport) coded conclusion is read as that finding
(stop 20: DiagnosticReport.ndjson was not read, so a report concluding a miscarriage after a
confirmed scan was judged "offer"). Its contained findings are read as Observations (stop 22: they
were only named), counted once where they repeat a finding; what of them is not read, and a scan
report with findings only as text, are named in the reading; dated after every location read,
such a report holds the offer back (stop 24: judged on the older scan, "offer")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import earlypath.audit.fhir_flat as fhir_flat
from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_read import read_fhir_export
from earlypath.audit.run import run_audit
from earlypath.synth.cohort import generate_chunks
from earlypath.synth.fhir_export import write_fhir
from tests.fhir_exports import export_merges, one_export, write_export
from tests.records.real_shapes import export_of
from tests.records.scan_shapes import (
    CONTAINED_CASES,
    CONTAINED_PROBLEMS,
    COUNTED_ONCE,
    IMAGES_LATER_52,
    IMAGES_ONLY_LATER,
    IMAGES_PROBLEMS,
    NEEDS_SCAN,
    OBSERVATION_VERSIONS,
    PROCEDURE_PROBLEMS,
    REPORT_TO_READ,
    REPORT_VERSIONS,
    SCAN_AS_CONDITION,
    SCAN_DATING,
    SCAN_REPORTS,
    SCAN_STATUS,
    SHARED_ID_CASES,
    SHARED_IDS,
    STUDY_PROBLEMS,
    UNREAD_FINDING_PROBLEMS,
    UNREAD_LATEST_SCAN,
    UNREAD_PROBLEMS,
    UNREAD_REPORTS,
    studies_as_exported,
)
from tests.records.test_engines_agree import assert_same, audit_reading, readings_of
from tests.records.test_ibis_export import compiled_reading, fetched

ENGINES = ["duckdb", "python"]
# the versions of one report (stop 27) in one export: each woman's two versions on two lines,
# in both orders
CASES = {
    **SCAN_STATUS,
    **SCAN_AS_CONDITION,
    **SCAN_DATING,
    **SCAN_REPORTS,
    **CONTAINED_CASES,
    **REPORT_VERSIONS,
    **OBSERVATION_VERSIONS,  # stop 28: the versions of a finding sent as an Observation
}


def _decisions(folder: Path, out: Path, engine: str, **kwargs: Any) -> dict[str, dict]:
    run_audit(folder, out, engine=engine, **kwargs)  # type: ignore[arg-type]
    rows = pq.read_table(out / "episodes.parquet").to_pylist()
    return {r["episode_id"].removeprefix("enc-"): r for r in rows}


def _check(rows: dict[str, dict], cases: dict[str, tuple[Any, str]]) -> None:
    assert set(rows) == set(cases)
    for name, (_, decision) in cases.items():
        assert rows[name]["decision"] == decision, name
        if decision == NEEDS_SCAN:
            # stop 26: a scan whose report was not read is missing its report, not a scan
            named, wrong = ("scan_report", "scans") if name in REPORT_TO_READ else ("scans", None)
            assert named in rows[name]["missing"] and wrong not in rows[name]["missing"], name


def _export(cases: dict[str, tuple[Any, str]]) -> dict[str, list[dict[str, Any]]]:
    """One export of every woman (each her own patient and encounter; a report's reference to
    her study to its id in the export, stop 52)."""
    return one_export(
        {
            name: export_of(studies_as_exported(name, resources))
            for name, (resources, _) in cases.items()
        }
    )


def _folder(cases: dict[str, tuple[Any, str]], tmp: Path) -> Path:
    return write_export(_export(cases), tmp / "in")


# Until stop 50 the tests below read CASES, UNREAD_REPORTS and the two reports concluding a
# miscarriage each as an export of its own (an audit costs seconds whatever its size): they are
# now one export, audited once per engine and read once by the compiled reading; each test
# checks its own women in it. `test_the_service_and_the_audit_read_steps_and_problems_alike`
# checks every woman of it read with the others as the service reads her record alone.
EVERY_CASE = {**CASES, **UNREAD_REPORTS, **IMAGES_ONLY_LATER, **IMAGES_LATER_52}
# a scan known only by its images (stop 51) and as real exports code it, beside its report, its
# fields malformed (stop 52)
IMAGES_LATER = {**IMAGES_ONLY_LATER, **IMAGES_LATER_52}


def _of(rows: dict[str, dict], cases: dict[str, tuple[Any, str]]) -> dict[str, dict]:
    """The rows of ``cases`` of an audit of an export holding them (and others)."""
    return {name: row for name, row in rows.items() if name in cases}


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(EVERY_CASE, tmp_path_factory.mktemp("scans"))


def _audits(
    folder: Path, cases: dict[str, tuple[Any, str]], tmp: pytest.TempPathFactory
) -> Callable[[str], dict[str, dict]]:
    """``audit(engine)``: the rows (by case) of that engine's audit of ``folder``, an export of
    ``cases``, audited when first asked."""
    rows: dict[str, dict[str, dict]] = {}

    def audit(engine: str) -> dict[str, dict]:
        if engine not in rows:
            rows[engine] = _decisions(folder, tmp.mktemp(f"audit-{engine}") / "out", engine)
            assert set(rows[engine]) == set(cases)  # no woman lost, none read twice
        return rows[engine]

    return audit


@pytest.fixture(scope="module")
def audited(
    export_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], dict[str, dict]]:
    return _audits(export_folder, EVERY_CASE, tmp_path_factory)


@pytest.fixture(scope="module")
def compiled(export_folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The compiled reading of `export_folder` on DuckDB (`fetched`), read once."""
    export = _export(EVERY_CASE)
    con = ibis.duckdb.connect()
    return fetched(compiled_reading(con, export_folder, "duck", export_merges(export)))


def _reading(compiled: Any, cases: dict[str, tuple[Any, str]]) -> list[dict[str, Any]]:
    """Each encounter of ``cases`` as the compiled reading of `export_folder` reads it."""
    export = _export(cases)
    return readings_of(compiled, export, export_merges(export))


@pytest.mark.parametrize("engine", ENGINES)
def test_the_audit_offers_only_on_a_confirmed_intrauterine_scan(
    engine: str, audited: Callable[[str], dict[str, dict]]
) -> None:
    _check(_of(audited(engine), CASES), CASES)


# Was a strict xfail (stop 51, HAZ-20 C20.50): no engine read an ImagingStudy, so the offer stood
# on an earlier confirmed scan; its controls (a same-day report read, a renal study, one not
# done) still offer. Stop 52 (C20.53-C20.55): a study coded locally or named in words, its
# report referring to it, its status outside FHIR R4's.
@pytest.mark.parametrize("engine", ENGINES)
def test_a_later_scan_known_only_by_its_images_holds_the_offer_back(
    engine: str, audited: Callable[[str], dict[str, dict]]
) -> None:
    _check(_of(audited(engine), IMAGES_LATER), IMAGES_LATER)


def test_the_service_and_the_audit_read_steps_and_problems_alike(compiled: Any) -> None:
    """Every step and problem (the preliminary scan's, the reports' unread findings, the scan
    images with no report) the same on both engines; a finding given more than once counted
    once."""
    cases = {**CASES, **IMAGES_LATER}
    export = _export(cases)
    reading = _reading(compiled, cases)
    assert_same(export, reading)
    at = [e["id"].removeprefix("enc-") for e in export["Encounter"]]
    # a scan known only by its images is named (stop 51), by its study
    for shape, message in IMAGES_PROBLEMS.items():
        ref = f"ImagingStudy/{shape}-us-study"
        assert (ref, message) in reading[at.index(shape)]["problems"], shape
    # stop 52: every problem naming a study, and only those (a study its report read: none)
    for shape, messages in STUDY_PROBLEMS.items():
        named = [
            (ref, m)
            for ref, m in reading[at.index(shape)]["problems"]
            if ref.startswith(f"ImagingStudy/{shape}-")
        ]
        expected = [(f"ImagingStudy/{shape}-us-study", m) for m in messages]
        assert sorted(named) == sorted(expected), shape
    # stop 53: a scan known only by its Procedure is named, by it; its controls are not
    for shape, messages in PROCEDURE_PROBLEMS.items():
        named = [
            (ref, m)
            for ref, m in reading[at.index(shape)]["problems"]
            if ref.startswith(f"Procedure/{shape}-")
        ]
        assert sorted(named) == [(f"Procedure/{shape}-us-procedure", m) for m in messages], shape
    for shape, message in CONTAINED_PROBLEMS.items():
        ref = f"DiagnosticReport/{shape}-us-report"
        assert (ref, message) in reading[at.index(shape)]["problems"], shape
    for shape, (_, step, value) in COUNTED_ONCE.items():
        assert reading[at.index(shape)]["steps"][step] == value, shape
    # a held scan finding's day not read is named as a finding, not a report (stop 29)
    for shape, message in UNREAD_FINDING_PROBLEMS.items():
        ref = f"Observation/{shape}-us-find"
        assert (ref, message) in reading[at.index(shape)]["problems"], shape


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).


def test_a_scan_report_concluding_a_miscarriage_is_no_offer(
    audited: Callable[[str], dict[str, dict]],
) -> None:
    """Was a strict expected failure (stop 19): DiagnosticReport.ndjson was not read."""
    cases = {
        name: SCAN_REPORTS[name]
        for name in (
            "report-concludes-miscarriage-after-confirmed-iup",
            "preliminary-report-concludes-ectopic-after-confirmed-iup",
        )
    }
    _check(_of(audited("duckdb"), cases), cases)


# A scan report that could not be read, dated after the intrauterine scan (stop 24: only named,
# so the audit judged her on the older scan: "offer", counted as care she should have had).


def check_unread_scan(flat: dict[str, dict]) -> None:
    """Her latest scan as the flat cells hold it (by case): the unread report's day, location
    "report_not_read" (not "unknown": a PUL), heartbeat unknown; a location read that day, or later, or an ectopic, stands."""
    for name, (on, location, heartbeat) in UNREAD_LATEST_SCAN.items():
        row = flat[name]
        got = (str(row["scan_date"]), row["scan_location"], row["fetal_heartbeat"])
        assert got == (on, location, heartbeat), name


@pytest.mark.parametrize("engine", ENGINES)
def test_a_later_scan_report_not_read_holds_the_offer_back_in_the_audit(
    engine: str, audited: Callable[[str], dict[str, dict]]
) -> None:
    _check(_of(audited(engine), UNREAD_REPORTS), UNREAD_REPORTS)


def test_the_reading_of_a_later_unread_report_on_duckdb(export_folder: Path, compiled: Any) -> None:
    """The flat cells of her latest scan, and every step and problem as the service reads them;
    the report named as what holds the offer back."""
    con = ibis.duckdb.connect()
    export = _export(UNREAD_REPORTS)
    table, _ = read_fhir_export(con, discover_export(export_folder, fhir_flat.RESOURCES), "ur")
    check_unread_scan(
        {r["episode_id"].removeprefix("enc-"): r for r in table.to_pyarrow().to_pylist()}
    )
    reading = _reading(compiled, UNREAD_REPORTS)
    assert_same(export, reading)
    at = [e["id"].removeprefix("enc-") for e in export["Encounter"]]
    for shape, messages in UNREAD_PROBLEMS.items():
        ref = f"DiagnosticReport/{shape}-us-report"
        named = [m for r, m in reading[at.index(shape)]["problems"] if r == ref]
        assert sorted(named) == sorted(messages), shape


def test_the_synthetic_export_writes_a_report_not_read_as_such(tmp_path: Path) -> None:
    """Stop 25: a synthetic flat row whose scan location is "report_not_read" becomes a FHIR scan
    report with its findings as text only, which the audit reads back as "report_not_read" (not
    "unknown", a pregnancy of unknown location) wherever its day falls in this pregnancy (she
    has an LMP: without one it cannot be placed, as any scan finding cannot)."""
    chunks = [
        chunk.set_column(
            chunk.schema.get_field_index("scan_location"),
            "scan_location",
            pa.array(
                [None if d is None else "report_not_read" for d in chunk["scan_date"].to_pylist()]
            ),
        )
        for chunk in generate_chunks(80, seed=11)
    ]
    write_fhir(chunks, tmp_path / "in")
    written = {r["episode_id"]: r for c in chunks for r in c.to_pylist()}
    con = ibis.duckdb.connect()
    table, _ = read_fhir_export(con, discover_export(tmp_path / "in", fhir_flat.RESOURCES), "sy")
    read = {r["episode_id"]: r for r in table.to_pyarrow().to_pylist()}
    placed = [
        eid
        for eid, row in written.items()
        if row["scan_date"] is not None
        and row["lmp"] is not None
        and row["scan_date"] >= row["lmp"]
    ]
    assert len(placed) > 20
    for eid in placed:
        assert read[eid]["scan_location"] == "report_not_read", eid
    assert {r["scan_location"] for r in read.values()} <= {"report_not_read", None}


# Versions of one scan report in two files of the export (stop 27): each woman's first version in
# DiagnosticReport.001.ndjson, her second in DiagnosticReport.002.ndjson (the shapes come in both
# orders, so each order is in each file); one version read, whatever the file holds it.


def report_versions_in_two_files() -> dict[str, list[dict[str, Any]]]:
    """The export of `REPORT_VERSIONS` by file name, the reports' versions split over two."""
    export = _export(REPORT_VERSIONS)
    reports = export.pop("DiagnosticReport")
    files = {f"{kind}.ndjson": resources for kind, resources in export.items()}
    seen: set[str] = set()
    first, second = [], []
    for report in reports:
        (second if report["id"] in seen else first).append(report)
        seen.add(report["id"])
    assert len(first) == len(second) == len(REPORT_VERSIONS)
    return {**files, "DiagnosticReport.001.ndjson": first, "DiagnosticReport.002.ndjson": second}


def write_files(files: dict[str, list[dict[str, Any]]], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, resources in files.items():
        text = "".join(json.dumps(r) + "\n" for r in resources)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("engine", ENGINES)
def test_versions_of_a_report_in_two_files_are_read_as_one(
    engine: str, files_audited: Callable[[str], dict[str, dict]]
) -> None:
    _check(_of(files_audited(engine), REPORT_VERSIONS), REPORT_VERSIONS)


# Versions of a scan finding sent as an Observation (stop 28), in two files of the export as a
# report's above: each woman's first version in Observation.011.ndjson, her second in
# Observation.012.ndjson (part names no other Spark scenario writes: "another-type" checks the
# lines of its own Observation.001.ndjson); one version read, whatever the file holds it.


def finding_versions_in_two_files() -> dict[str, list[dict[str, Any]]]:
    """The export of `OBSERVATION_VERSIONS` by file name, the findings' versions split over two
    (her other Observations in the first)."""
    export = _export(OBSERVATION_VERSIONS)
    observations = export.pop("Observation")
    files = {f"{kind}.ndjson": resources for kind, resources in export.items()}
    seen: set[str] = set()
    first, second = [], []
    for found in observations:
        (second if found["id"] in seen else first).append(found)
        seen.add(found["id"])
    assert len(second) == len(OBSERVATION_VERSIONS)
    return {**files, "Observation.011.ndjson": first, "Observation.012.ndjson": second}


def shared_ids_export() -> dict[str, list[dict[str, Any]]]:
    """`SHARED_ID_CASES` as one export, each woman her own Patient and encounter, the report and
    the finding of every woman under the one id they share (`SHARED_IDS`)."""
    export = _export(SHARED_ID_CASES)
    for resources in export.values():
        for r in resources:
            for rid in SHARED_IDS:
                if r.get("id", "").endswith(f"-{rid}"):
                    r["id"] = rid
    ids = [r["id"] for kind in ("DiagnosticReport", "Observation") for r in export.get(kind, [])]
    assert all(ids.count(rid) == 2 for rid in SHARED_IDS), ids
    return export


def versions_per_patient_files() -> dict[str, list[dict[str, Any]]]:
    """Both exports above as one (the Spark scenario "finding-versions-per-patient")."""
    files = finding_versions_in_two_files()
    for kind, resources in shared_ids_export().items():
        name = "Observation.011.ndjson" if kind == "Observation" else f"{kind}.ndjson"
        files[name] = [*files.get(name, []), *resources]
    return files


VERSIONS_PER_PATIENT = {**OBSERVATION_VERSIONS, **SHARED_ID_CASES}


# Until stop 50 the three tests below audited an export of their own each (six audits): the
# exports above, by file name, are now one, audited once per engine (`files_audited`); each test
# checks its own women (all of them their own patient and encounter) in it.
IN_FILES = {**REPORT_VERSIONS, **VERSIONS_PER_PATIENT}


def versions_in_files() -> dict[str, list[dict[str, Any]]]:
    """`report_versions_in_two_files` and `versions_per_patient_files` as one export by file
    name (a file both name holds the lines of both)."""
    files: dict[str, list[dict[str, Any]]] = {}
    for part in (report_versions_in_two_files(), versions_per_patient_files()):
        for name, resources in part.items():
            files[name] = [*files.get(name, []), *resources]
    return files


@pytest.fixture(scope="module")
def files_audited(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, dict]]:
    folder = write_files(versions_in_files(), tmp_path_factory.mktemp("files") / "in")
    return _audits(folder, IN_FILES, tmp_path_factory)


@pytest.mark.parametrize("engine", ENGINES)
def test_versions_of_a_finding_in_two_files_are_read_as_one(
    engine: str, files_audited: Callable[[str], dict[str, dict]]
) -> None:
    _check(_of(files_audited(engine), OBSERVATION_VERSIONS), OBSERVATION_VERSIONS)


@pytest.mark.parametrize("engine", ENGINES)
def test_each_woman_is_read_from_her_own_versions(
    engine: str, files_audited: Callable[[str], dict[str, dict]]
) -> None:
    """Two women's report (and finding) under one id: each read from her own version (stop 27
    read the other woman's later text-only report as replacing her coded one: no offer)."""
    _check(_of(files_audited(engine), VERSIONS_PER_PATIENT), VERSIONS_PER_PATIENT)


def test_shared_ids_read_alike_by_the_service_and_the_audit(tmp_path: Path) -> None:
    """Every step and problem of each woman the same as the service's reading of her record
    alone (the CDS call holds one patient's)."""
    export = shared_ids_export()
    folder = write_export(export, tmp_path / "in")
    assert_same(export, audit_reading(ibis.duckdb.connect(), folder, "shared", export))
