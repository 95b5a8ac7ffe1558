"""Bulk exports as real systems write them: file names, gzip, manifests, references, and who is
judged (only encounters with a current pregnancy; never a man's)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow.parquet as pq
import pytest

from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_flat import RESOURCES
from earlypath.audit.run import run_audit
from earlypath.errors import InputError
from earlypath.fhir.pregnancy import EXCLUDED_MALE, EXCLUDED_NOT_PREGNANT
from tests.audit import synthea_like
from tests.fhir_exports import Export, concatenated, namespaced
from tests.integration.fhir_data import condition, day, eligible_resources
from tests.records.read_once import ReadOnce
from tests.records.real_shapes import ectopic_today, export_of

ENGINES = ["duckdb", "python"]


def _episodes(out: Path) -> dict[str, dict[str, Any]]:
    return {r["episode_id"]: r for r in pq.read_table(out / "episodes.parquet").to_pylist()}


def _summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _write(folder: Path, files: dict[str, list[dict[str, Any]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, items in files.items():
        text = "".join(json.dumps(r) + "\n" for r in items)
        if name.endswith(".gz"):
            (folder / name).write_bytes(gzip.compress(text.encode("utf-8")))
        else:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


# --- who is judged, on an export written as Synthea writes one ------------------------------------


class Audit(NamedTuple):
    """A whole audit of an export: what `run_audit` returned and the folder it wrote."""

    result: Any
    out: Path


AuditOf = Callable[[str], Audit]


@pytest.fixture(scope="module")
def synthea_audit(tmp_path_factory: pytest.TempPathFactory) -> AuditOf:
    """``synthea_audit(engine)``: the audit of `synthea_like`'s export (not gzipped) on that
    engine, made when a test first asks for it and shared by the tests that only read its
    outputs (who is judged, care given, the export summary): one reading per engine, not one
    per test. Stop 48: each test audited the same export again. Stop 51: the export holds
    `_miscoded_on_a_man` too (as the man's test's own export did, now this one), which changes
    nothing the other tests read: his encounters are a man's."""
    audits: dict[str, Audit] = {}

    def audit(engine: str) -> Audit:
        if engine not in audits:
            folder = tmp_path_factory.mktemp(f"synthea-{engine}")
            export = synthea_like.write(folder / "export")
            with (export / "1.Observation.ndjson").open("a", encoding="utf-8") as lines:
                lines.writelines(json.dumps(r) + "\n" for r in _miscoded_on_a_man())
            result = run_audit(export, folder / "out", engine=engine)  # type: ignore[arg-type]
            audits[engine] = Audit(result, folder / "out")
        return audits[engine]

    return audit


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("gz", [False, True])
def test_a_synthea_like_export_judges_only_current_pregnancies(
    engine: str, gz: bool, tmp_path: Path, synthea_audit: AuditOf
) -> None:
    if gz:  # the gzipped files are an export of their own: read them
        folder = synthea_like.write(tmp_path / "export", gz=gz)
        result = run_audit(folder, tmp_path / "out", engine=engine)  # type: ignore[arg-type]
        out = tmp_path / "out"
    else:
        result, out = synthea_audit(engine)
    truth = synthea_like.TRUTH
    judged = {e for e, why in truth.items() if why is None}
    assert set(_episodes(out)) == judged
    rec = _summary(out)["reconciliation"]
    assert rec == {
        "rows_in": len(truth),
        "evaluated": len(judged),
        "excluded": len(truth) - len(judged),
        "excluded_by_reason": {
            EXCLUDED_MALE: sum(why == EXCLUDED_MALE for why in truth.values()),
            EXCLUDED_NOT_PREGNANT: sum(why == EXCLUDED_NOT_PREGNANT for why in truth.values()),
        },
        "rejected": 0,
        "balanced": True,
    }
    assert result.rows_in == result.evaluated + result.excluded + result.rejected
    report = (out / "report.html").read_text(encoding="utf-8")
    assert f"excluded {len(truth) - len(judged)}" in report and f"{EXCLUDED_MALE}: 2" in report


@pytest.mark.parametrize("engine", ENGINES)
def test_care_given_links_through_absolute_versioned_and_urn_uuid_references(
    engine: str, synthea_audit: AuditOf
) -> None:
    # Eve's prescription refers to her encounter as https://.../Encounter/eve-1/_history/2 and to
    # its Medication as urn:uuid:med-progesterone: it is care given at that visit (not "already
    # on progesterone", which would turn a prescription into "continue").
    eve = _episodes(synthea_audit(engine).out)["eve-1"]
    assert eve["progesterone_prescribed"] is True
    assert eve["adherence"] != "undecidable" or eve["decision"] == "needs_information"


def test_the_export_summary_counts_skipped_types_and_ignored_files(synthea_audit: AuditOf) -> None:
    export = _summary(synthea_audit("duckdb").out)["fhir_export"]
    # Procedure is read since stop 31 (a treatment of an ectopic or a miscarriage); Claim is not
    assert export["skipped_resource_types"] == {"Claim": 2}
    assert export["ignored_files"] == ["log.ndjson"]
    assert export["files_read"]["Encounter"] == ["1.Encounter.ndjson"]
    assert export["files_read"]["Procedure"] == ["1.Procedure.ndjson"]


def _miscoded_on_a_man() -> list[dict[str, Any]]:
    """An LMP and a pregnancy status on a man's record (miscoded, or a test record)."""
    return [
        synthea_like._lmp("o-bob", "bob", "2024-03-16", "2024-02-01"),
        synthea_like._status("o-bob-s", "bob", "bob-1", "2024-03-16"),
    ]


def test_a_mans_encounter_is_never_judged_whatever_his_record_holds(
    synthea_audit: AuditOf,
) -> None:
    # the shared DuckDB audit: its export holds `_miscoded_on_a_man`, still excluded
    result, out = synthea_audit("duckdb")
    assert not {"bob-1", "bob-2"} & set(_episodes(out))
    assert result.summary["reconciliation"]["excluded_by_reason"][EXCLUDED_MALE] == 2


# --- file names, parts, gzip and the manifest ---------------------------------------------------


def _minimal(n: int = 3) -> dict[str, list[dict[str, Any]]]:
    """n women, each with an LMP: every encounter an episode."""
    out: dict[str, list[dict[str, Any]]] = {"Patient": [], "Encounter": [], "Condition": []}
    out["Observation"] = []
    for i in range(n):
        out["Patient"].append({"resourceType": "Patient", "id": f"p{i}", "gender": "female"})
        out["Encounter"].append(
            {
                "resourceType": "Encounter",
                "id": f"e{i}",
                "status": "finished",
                "class": {"code": "AMB"},
                "subject": {"reference": f"Patient/p{i}"},
                "period": {"start": "2024-05-20"},
            }
        )
        out["Observation"].append(synthea_like._lmp(f"l{i}", f"p{i}", "2024-05-20", "2024-04-01"))
    return out


# The women of the reference tests below are independent (each her own Patient, Encounter and
# resources, her export's shape the only thing read of the whole): they are audited together, an
# export per export shape and engine (`ReadOnce`: her ids namespaced, ``w<n>.``), and each test
# takes her episodes. Stop 48: each case audited an export of its own (18 readings, now 4).
# The tests of files, manifests, parts, a missing or empty type and of what the export's
# summary counts keep an export of their own: what they check is the export as a whole.
Women = Callable[[Export, str], list[dict[str, Any]]]

# what names a woman in the batch, not what was decided for her
_NAMING = ("episode_id", "row_number", "patient_id")


def _audited_episodes(export: Export, folder: Path, engine: str) -> list[dict[str, Any]]:
    """The episodes of a DuckDB or Python audit of ``export`` (written under ``folder``)."""
    files = _write(folder / "in", {f"{k}.ndjson": v for k, v in export.items()})
    run_audit(files, folder / "out", engine=engine)  # type: ignore[arg-type]
    return list(_episodes(folder / "out").values())


def _batched_women() -> list[Export]:
    """The export of each woman the `women` tests audit (a test's export not here fails)."""
    return [
        *(_linked_by(reference) for reference in REFERENCE_FORMS),
        *(_given_at_the_visit(*forms) for forms in VISIT_REFERENCE_FORMS),
    ]


@pytest.fixture(scope="module")
def women(tmp_path_factory: pytest.TempPathFactory) -> Women:
    """``women(her export, engine)``: her episodes in the audit on ``engine`` of every woman of
    her export shape (her ids prefixed)."""
    together = {
        engine: ReadOnce(
            _batched_women(),
            tmp_path_factory.mktemp(f"women-{engine}"),
            lambda export, folder, engine=engine: _audited_episodes(export, folder, engine),
        )
        for engine in ENGINES
    }

    def episodes(export: Export, engine: str) -> list[dict[str, Any]]:
        space, _, every = together[engine].part(export)
        return [e for e in every if e["episode_id"].startswith(space)]

    return episodes


def test_parts_of_one_type_are_read_in_number_order(tmp_path: Path) -> None:
    data = _minimal(12)
    enc = data.pop("Encounter")
    files = {f"{k}.000.ndjson": v for k, v in data.items()}
    # 2 before 10 (a text sort puts 10 first); X.000 before X.001
    files |= {"2.Encounter.ndjson": enc[:4], "10.Encounter.ndjson": enc[4:8]}
    folder = _write(tmp_path / "a", files)
    export = discover_export(folder, RESOURCES)
    assert [p.name for p in export.of("Encounter")] == ["2.Encounter.ndjson", "10.Encounter.ndjson"]
    files = {f"{k}.000.ndjson": v for k, v in data.items()}
    files |= {"Encounter.001.ndjson": enc[6:], "Encounter.000.ndjson": enc[:6]}
    run_audit(_write(tmp_path / "b", files), tmp_path / "out")
    episodes = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    assert [e["episode_id"] for e in episodes] == [f"e{i}" for i in range(12)]
    assert [e["row_number"] for e in episodes] == list(range(1, 13))


def test_medication_request_is_not_read_as_a_part_of_medication(tmp_path: Path) -> None:
    files = {f"{k}.ndjson": v for k, v in _minimal().items()}
    files["1.MedicationRequest.ndjson"] = []
    files["1.Medication.ndjson"] = []
    export = discover_export(_write(tmp_path, files), RESOURCES)
    assert [p.name for p in export.of("Medication")] == ["1.Medication.ndjson"]
    assert [p.name for p in export.of("MedicationRequest")] == ["1.MedicationRequest.ndjson"]


@pytest.mark.parametrize("missing", ["Encounter", "Patient", "Condition"])
def test_an_export_without_a_required_file_exits_2_naming_it(missing: str, tmp_path: Path) -> None:
    files = {f"1.{k}.ndjson": v for k, v in _minimal().items() if k != missing}
    folder = _write(tmp_path / "export", files)
    done = subprocess.run(
        [sys.executable, "-c", "from earlypath.cli import main; main()", "audit", str(folder)]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"no {missing} file" in done.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_manifest_names_the_files_by_the_last_segment_of_their_url(tmp_path: Path) -> None:
    data = _minimal()
    names = {kind: f"export-{i}.ndjson" for i, kind in enumerate(data)}
    folder = _write(tmp_path / "m", {names[k]: v for k, v in data.items()})
    (folder / "stale.Encounter.ndjson").write_text("", encoding="utf-8")  # not in the manifest
    (folder / "Claim.ndjson").write_text('{"resourceType": "Claim"}\n', encoding="utf-8")
    manifest = {
        "transactionTime": "2024-06-01T00:00:00Z",
        "request": "https://ehr.example.org/fhir/$export",
        "requiresAccessToken": True,
        "output": [
            {"type": k, "url": f"https://files.example.org/out/{names[k]}?x=1", "count": len(v)}
            for k, v in data.items()
        ]
        + [{"type": "Claim", "url": "https://files.example.org/out/Claim.ndjson"}],
        "error": [],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = run_audit(folder, tmp_path / "out")
    assert (result.rows_in, result.evaluated) == (3, 3)
    export = result.summary["fhir_export"]
    assert export["manifest"] == "manifest.json"
    assert export["skipped_resource_types"] == {"Claim": 1}
    assert export["ignored_files"] == ["stale.Encounter.ndjson"]


def _manifest_folder(tmp_path: Path, **changes: Any) -> Path:
    data = _minimal()
    folder = _write(tmp_path / "m", {f"{k}.ndjson": v for k, v in data.items()})
    manifest = {
        "output": [{"type": k, "url": f"https://x/{k}.ndjson"} for k in data],
        "error": [],
        **changes,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_a_manifest_listing_a_file_not_in_the_folder_is_refused(tmp_path: Path) -> None:
    output = [{"type": "Observation", "url": "https://x/gone.ndjson"}]
    folder = _manifest_folder(tmp_path, output=output)
    with pytest.raises(InputError, match="'gone.ndjson' that is not in the folder"):
        run_audit(folder, tmp_path / "out")


def test_a_manifest_whose_count_is_not_what_was_downloaded_is_refused(tmp_path: Path) -> None:
    folder = _manifest_folder(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["output"][1]["count"] = 4  # Encounter: 3 downloaded
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match="incomplete"):
        run_audit(folder, tmp_path / "out")


def _reporting(severity: str) -> dict[str, Any]:
    """An error file's line: an OperationOutcome of ``severity`` about the export's processing."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": "processing", "diagnostics": "x"}],
    }


# a kick-off filtering a type the audit does not read: the export is still whole records
_CLAIMS_FILTERED = "https://ehr.example.org/fhir/$export?_typeFilter=Claim%3Fstatus%3Dactive"


def _crlf_with_a_byte_order_mark() -> bytes:
    """An error file written by a Windows tool: each line CRLF, a UTF-8 byte order mark first."""
    note = {"resourceType": "OperationOutcome", "issue": [{"severity": "information"}]}
    line = json.dumps(note).encode("utf-8")
    return b"\xef\xbb\xbf" + line + b"\r\n" + line + b"\r\n"


@pytest.fixture(scope="module")
def accepted_manifest(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Any]:
    """``accepted_manifest()``: what `run_audit` returned for `_minimal` (3 women) under one
    manifest holding all that the three tests of a manifest the audit accepts write into it: a
    ``_typeFilter`` on Claim in its request, an error file reporting information, and an error
    file with CRLF and a byte order mark. Made when a test first asks for it; stop 52: one audit,
    not one per test (each asserts the 3 women are judged, so a manifest refused for any of
    the three fails all three)."""
    audits: list[Any] = []

    def audit() -> Any:
        if not audits:
            tmp_path = tmp_path_factory.mktemp("accepted-manifest")
            errors = ["err.ndjson", "err-crlf.ndjson"]
            folder = _manifest_folder(
                tmp_path,
                request=_CLAIMS_FILTERED,
                deleted=[],
                error=[{"type": "OperationOutcome", "url": f"https://x/{e}"} for e in errors],
            )
            line = json.dumps(_reporting("information")) + "\n"
            (folder / "err.ndjson").write_text(line, encoding="utf-8")
            (folder / "err-crlf.ndjson").write_bytes(_crlf_with_a_byte_order_mark())
            audits.append(run_audit(folder, tmp_path / "out"))
        return audits[0]

    return audit


@pytest.mark.parametrize(("severity", "refused"), [("error", True), ("information", False)])
def test_an_export_reporting_errors_is_refused_warnings_are_not(
    severity: str, refused: bool, tmp_path: Path, accepted_manifest: Callable[[], Any]
) -> None:
    if refused:
        folder = _manifest_folder(
            tmp_path, error=[{"type": "OperationOutcome", "url": "https://x/err.ndjson"}]
        )
        line = json.dumps(_reporting(severity)) + "\n"
        (folder / "err.ndjson").write_text(line, encoding="utf-8")
        with pytest.raises(InputError, match="the export reports an error"):
            run_audit(folder, tmp_path / "out")
    else:  # the information file is in the accepted manifest's export
        assert accepted_manifest().evaluated == 3


# An export of part records (Bulk Data Access IG v2, "Query Parameters"; the SMART bulk-data-client's
# ExportManifest: ``request`` is the kick-off URL, ``deleted`` lists the resources deleted since
# ``_since``, "populated ... when a _since timestamp is supplied"). An ectopic pregnancy recorded
# before ``_since``, or filtered out, is not in it: read as it stands, she would be judged without it.
_DELETE_ECTOPIC = {"request": {"method": "DELETE", "url": "Condition/ect"}}


PART_RECORDS = {
    "since": {
        "request": "https://ehr.example.org/fhir/Group/g1/$export?_since=2024-05-01T00:00:00Z"
    },
    "deleted": {
        # a POST kick-off: the URL carries no parameters, the deleted list still tells
        "request": "https://ehr.example.org/fhir/Patient/$export",
        "deleted": [{"type": "Bundle", "url": "https://x/del.ndjson"}],
    },
    "type-filter": {
        "request": "https://ehr.example.org/fhir/$export?_type=Condition,Encounter,Patient"
        "&_typeFilter=Condition%3Fclinical-status%3Dactive"
    },
    "elements": {"request": "https://ehr.example.org/fhir/$export?_elements=id,subject,code"},
}


@pytest.mark.parametrize("shape", list(PART_RECORDS))
def test_an_export_of_part_records_is_refused_naming_why(shape: str, tmp_path: Path) -> None:
    folder = _manifest_folder(tmp_path, **PART_RECORDS[shape])
    deleted = {"resourceType": "Bundle", "type": "transaction", "entry": [_DELETE_ECTOPIC]}
    (folder / "del.ndjson").write_text(json.dumps(deleted) + "\n", encoding="utf-8")
    field = "manifest.json deleted" if shape == "deleted" else "manifest.json request"
    with pytest.raises(InputError, match=f"{field}: the export .*judges whole records") as error:
        run_audit(folder, tmp_path / "out")
    why = {"since": "_since", "deleted": "_since", "type-filter": "Condition resources matching"}
    assert why.get(shape, "_elements") in str(error.value)


def test_a_filter_on_a_type_the_audit_does_not_read_is_no_part_record(
    accepted_manifest: Callable[[], Any],
) -> None:
    # the accepted manifest's request is `_CLAIMS_FILTERED` (and its deleted list empty)
    assert accepted_manifest().evaluated == 3


@pytest.mark.parametrize("code", ["incomplete", "too-costly", "suppressed"])
@pytest.mark.parametrize("severity", ["warning", "information"])
def test_an_error_file_saying_the_export_is_partial_is_refused_whatever_its_severity(
    code: str, severity: str, tmp_path: Path
) -> None:
    # the rule the CDS service reads a partial search by (earlypath.fhir.outcomes): a server
    # that could not export everything says so beside what it could (FHIR R4 issue-type)
    folder = _manifest_folder(
        tmp_path, error=[{"type": "OperationOutcome", "url": "https://x/err.ndjson"}]
    )
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code}]}
    (folder / "err.ndjson").write_text(json.dumps(outcome) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"error\[0\]: the export reports an error"):
        run_audit(folder, tmp_path / "out")


def test_an_error_file_with_crlf_and_a_byte_order_mark_is_read(
    accepted_manifest: Callable[[], Any],
) -> None:
    # the accepted manifest's err-crlf.ndjson: `_crlf_with_a_byte_order_mark`
    assert accepted_manifest().evaluated == 3


def test_an_error_file_that_cannot_be_read_is_refused_naming_it(tmp_path: Path) -> None:
    folder = _manifest_folder(
        tmp_path, error=[{"type": "OperationOutcome", "url": "https://x/err.ndjson.gz"}]
    )
    (folder / "err.ndjson.gz").write_bytes(gzip.compress(b'{"resourceType": "Op')[:12])
    with pytest.raises(InputError, match=r"err\.ndjson\.gz: cannot be read"):
        run_audit(folder, tmp_path / "out")


# --- references ---------------------------------------------------------------------------------


REFERENCE_FORMS = [
    "Patient/{id}",
    "https://ehr.example.org/fhir/Patient/{id}",
    "Patient/{id}/_history/4",
    "https://ehr.example.org/fhir/Patient/{id}/_history/4",
    "urn:uuid:{id}",
]


def _linked_by(reference: str) -> Export:
    """A woman whose Encounter, Condition, LMP and allergy name her by ``reference``."""
    pid = "5f0c6c1e-0d4b-4b7e-9a43-1c2f7e0f5a11"
    ref = reference.format(id=pid)
    data: Export = {
        "Patient": [{"resourceType": "Patient", "id": pid, "gender": "female"}],
        "Encounter": [
            {
                "resourceType": "Encounter",
                "id": "e1",
                "status": "finished",
                "class": {"code": "AMB"},
                "subject": {"reference": ref},
                "period": {"start": "2024-05-20"},
            }
        ],
        "Condition": [
            {
                "resourceType": "Condition",
                "id": "c1",
                "subject": {"reference": ref},
                "code": {"coding": [{"system": synthea_like.SNOMED, "code": "17369002"}]},
                "onsetDateTime": "2024-05-20",
            }
        ],
        "Observation": [{**synthea_like._lmp("l1", pid, "2024-05-20", "2024-04-01")}],
        "AllergyIntolerance": [
            {"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": ref}}
            | {"code": {"text": "Peanut"}}
        ],
    }
    data["Observation"][0]["subject"] = {"reference": ref}
    return data


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("reference", REFERENCE_FORMS)
def test_subject_and_patient_references_link_in_every_form(
    engine: str, reference: str, women: Women
) -> None:
    (episode,) = women(_linked_by(reference), engine)
    # linked: the LMP dates her pregnancy and the miscarriage diagnosed today is hers
    assert episode["gestation_days"] == 49
    assert episode["decision"] != "offer"


def test_a_reference_to_another_resource_type_links_nothing(tmp_path: Path) -> None:
    data = _minimal(1)
    data["Observation"][0]["subject"] = {"reference": "Group/p0"}
    folder = _write(tmp_path / "x", {f"{k}.ndjson": v for k, v in data.items()})
    result = run_audit(folder, tmp_path / "out")
    # her only evidence of a pregnancy is not hers: not an episode
    assert result.summary["reconciliation"]["excluded_by_reason"] == {EXCLUDED_NOT_PREGNANT: 1}


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).


def test_a_manifest_finds_files_a_server_named_without_a_suffix(tmp_path: Path) -> None:
    # a HAPI-like server serves each file as a Binary: the folder holds files named by their id
    data = _minimal()
    folder = _write(tmp_path / "h", {f"b{i}": v for i, v in enumerate(data.values())})
    manifest = {
        "output": [
            {"type": k, "url": f"https://ehr.example.org/fhir/Binary/b{i}"}
            for i, k in enumerate(data)
        ],
        "error": [],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = run_audit(folder, tmp_path / "out")
    assert (result.rows_in, result.evaluated) == (3, 3)


def test_an_export_whose_encounter_files_are_empty_is_refused(tmp_path: Path) -> None:
    # as a download that failed part-way leaves it: an audit of nobody is not a clean audit
    files = {f"{k}.000.ndjson": v for k, v in _minimal().items()}
    files["Encounter.000.ndjson"] = []
    with pytest.raises(InputError, match="hold no Encounter"):
        run_audit(_write(tmp_path / "x", files), tmp_path / "out")


VISIT_REFERENCE_FORMS = [
    ("Encounter/e0", "Medication/m1"),
    ("https://ehr.example.org/fhir/Encounter/e0", "https://ehr.example.org/fhir/Medication/m1"),
    ("Encounter/e0/_history/3", "Medication/m1/_history/1"),
    ("urn:uuid:e0", "urn:uuid:m1"),
]


def _given_at_the_visit(encounter: str, medication: str) -> Export:
    """A woman prescribed Cyclogest at her visit, the request naming the visit by ``encounter``
    and its Medication by ``medication``."""
    data = _minimal(1)
    data["Medication"] = [
        {"resourceType": "Medication", "id": "m1", "code": {"text": "Cyclogest 400 mg pessaries"}}
    ]
    data["MedicationRequest"] = [
        {
            "resourceType": "MedicationRequest",
            "id": "rx",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/p0"},
            "encounter": {"reference": encounter},
            "medicationReference": {"reference": medication},
            "authoredOn": "2024-05-20",
        }
    ]
    return data


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("encounter", "medication"), VISIT_REFERENCE_FORMS)
def test_a_prescription_at_the_visit_is_care_given_in_every_reference_form(
    engine: str, encounter: str, medication: str, women: Women
) -> None:
    (episode,) = women(_given_at_the_visit(encounter, medication), engine)
    # given at this visit: prescribed here, not "already on progesterone" (that would be
    # judged as a continuation)
    assert episode["progesterone_prescribed"] is True
    assert episode["decision"] != "continue"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_woman_audited_with_others_is_audited_as_alone(
    engine: str, women: Women, tmp_path: Path
) -> None:
    # `women` audits the women above together (an export per export shape); a sample of them,
    # one of each shape, audited alone gives the same episode, field by field, but for the ids
    # and row numbers that name her in the batch: a leak between women would differ here
    for n, export in enumerate(
        [_linked_by("urn:uuid:{id}"), _given_at_the_visit(*VISIT_REFERENCE_FORMS[3])]
    ):
        (alone,) = _audited_episodes(export, tmp_path / f"alone{n}", engine)
        (together,) = women(export, engine)
        assert {k: v for k, v in together.items() if k not in _NAMING} == {
            k: v for k, v in alone.items() if k not in _NAMING
        }


# --- a line of another type inside a type's file (a mixed or mislabelled file) -------------------


def _ectopic_filed_as_observation(extra: list[dict[str, Any]] = ()) -> dict[str, list]:  # type: ignore[assignment]
    """Her record, eligible for progesterone but for an ectopic pregnancy today, whose Condition
    the exporter wrote into Observation.ndjson (with ``extra`` lines there too)."""
    export = export_of(eligible_resources())
    ectopic = ectopic_today()
    export["Observation"] = [*export.get("Observation", []), ectopic, *extra]
    return export


# The three tests below read one audit per engine of one mixed export (`mixed_files`): her
# ectopic Condition, two Claims and a line of no type in Observation.ndjson, a copy of her first
# Observation in Encounter.ndjson. Each checks the lines of the file it is about. Stop 55: until
# then each audited an export of its own (six audits, now two).
_CLAIM_LINE = {"resourceType": "Claim", "id": "c1"}
_UNTYPED_LINE = {"id": "no-type", "code": {"text": "ectopic pregnancy"}}


@pytest.fixture(scope="module")
def mixed_files(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``mixed_files(engine)``: the folder of that engine's audit of the mixed export, made when
    a test first asks for it."""
    outs: dict[str, Path] = {}
    export = _ectopic_filed_as_observation([_CLAIM_LINE, _UNTYPED_LINE, _CLAIM_LINE])
    export["Encounter"].append(export["Observation"][0] | {"resourceType": "Observation"})

    def audit(engine: str) -> Path:
        if engine not in outs:
            folder = tmp_path_factory.mktemp(f"mixed-{engine}")
            files = _write(folder / "x", {f"{k}.ndjson": v for k, v in export.items()})
            run_audit(files, folder / "out", engine=engine)  # type: ignore[arg-type]
            outs[engine] = folder / "out"
        return outs[engine]

    return audit


def _of_file(out: Path, name: str) -> list[dict[str, Any]]:
    """The export summary's lines of another type found in the file ``name``."""
    other = _summary(out)["fhir_export"]["lines_of_another_type"]
    return [o for o in other if o["file"] == name]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_condition_inside_the_observation_file_is_read_as_a_condition(
    engine: str, mixed_files: Callable[[str], Path]
) -> None:
    out = mixed_files(engine)
    (episode,) = _episodes(out).values()
    assert episode["decision"] == "do_not_offer"  # the ectopic is seen: no progesterone
    # the file's Claims and line of no type: the test after the next
    found = _of_file(out, "Observation.ndjson")
    assert [o for o in found if o["resourceType"] == "Condition"] == [
        {
            "file": "Observation.ndjson",
            "file_type": "Observation",
            "resourceType": "Condition",
            "lines": 1,
            "read_as": "Condition",
        }
    ]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "Observation.ndjson, a file of Observation resources, holds 1 line of Condition: read as"
        in report
    )


def test_the_engines_agree_on_a_mixed_file(mixed_files: Callable[[str], Path]) -> None:
    answers = {}
    for engine in ENGINES:
        out = mixed_files(engine)
        answers[engine] = (_episodes(out), _summary(out)["fhir_export"])
    assert answers["duckdb"] == answers["python"]
    assert _of_file(mixed_files("duckdb"), "Encounter.ndjson") == [
        {
            "file": "Encounter.ndjson",
            "file_type": "Encounter",
            "resourceType": "Observation",
            "lines": 1,
            "read_as": "Observation",
        },
    ]
    assert [o["file"] for o in answers["duckdb"][1]["lines_of_another_type"]] == [
        "Encounter.ndjson",
        *["Observation.ndjson"] * 3,
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_line_of_a_type_not_read_or_of_no_type_is_counted_not_dropped_silently(
    engine: str, mixed_files: Callable[[str], Path]
) -> None:
    out = mixed_files(engine)  # its Observation.ndjson: [ectopic, claim, untyped, claim]
    other = _of_file(out, "Observation.ndjson")
    assert [(o["resourceType"], o["lines"], o["read_as"]) for o in other] == [
        ("Claim", 2, None),
        ("Condition", 1, "Condition"),
        (None, 1, None),
    ]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "holds 1 line of no resourceType: not read" in report
    assert "holds 2 lines of Claim: not read" in report
    assert "no-type" not in report  # counted, never shown


def test_of_several_parts_the_one_holding_the_other_type_is_named(tmp_path: Path) -> None:
    export = _ectopic_filed_as_observation()
    observations = export.pop("Observation")
    files = {f"{k}.ndjson": v for k, v in export.items()}
    files["Observation.000.ndjson"] = observations[:-1]
    files["Observation.001.ndjson"] = observations[-1:]  # the ectopic Condition
    run_audit(_write(tmp_path / "x", files), tmp_path / "out")
    (episode,) = _episodes(tmp_path / "out").values()
    assert episode["decision"] == "do_not_offer"
    other = _summary(tmp_path / "out")["fhir_export"]["lines_of_another_type"]
    assert [(o["file"], o["resourceType"], o["lines"]) for o in other] == [
        ("Observation.001.ndjson", "Condition", 1)
    ]


# --- a line of a read type inside a file the audit does not read as a type ----------------------


def _eligible_export() -> dict[str, list[dict[str, Any]]]:
    """Her record, eligible for progesterone (the audit's answer: offer)."""
    return export_of(eligible_resources())


def _claims(n: int) -> list[dict[str, Any]]:
    # a Claim as Synthea writes one, naming a Condition it contains (not a line of Condition)
    return [
        {
            "resourceType": "Claim",
            "id": f"claim-{i}",
            "contained": [{"resourceType": "Condition", "id": "x", "code": {"text": "ectopic"}}],
            "diagnosis": [{"sequence": 1, "diagnosisReference": {"reference": "#x"}}],
        }
        for i in range(n)
    ]


def _found(out: Path) -> list[tuple[str, str | None, str, int, str | None]]:
    other = _summary(out)["fhir_export"]["lines_of_another_type"]
    return [(o["file"], o["file_type"], o["resourceType"], o["lines"], o["read_as"]) for o in other]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("gz", [False, True])
def test_an_ectopic_condition_inside_the_claim_file_is_read(
    engine: str, gz: bool, tmp_path: Path
) -> None:
    export = _eligible_export()
    files = {f"{k}.ndjson": v for k, v in export.items()}
    suffix = ".gz" if gz else ""
    files[f"Claim.ndjson{suffix}"] = [*_claims(2), ectopic_today(), *_claims(1)]
    folder = _write(tmp_path / "x", files)
    run_audit(folder, tmp_path / "out", engine=engine)  # type: ignore[arg-type]
    (episode,) = _episodes(tmp_path / "out").values()
    assert episode["decision"] == "do_not_offer"  # the ectopic is seen: no progesterone
    summary = _summary(tmp_path / "out")["fhir_export"]
    assert summary["skipped_resource_types"] == {"Claim": 3}  # the lines not read
    assert summary["files_read"]["Condition"] == ["Condition.ndjson"]
    assert _found(tmp_path / "out") == [
        (f"Claim.ndjson{suffix}", "Claim", "Condition", 1, "Condition")
    ]
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert (
        f"Claim.ndjson{suffix}, a file of Claim resources, holds 1 line of Condition: "
        "read as Condition." in report
    )


def test_without_the_ectopic_in_the_claim_file_she_is_offered(tmp_path: Path) -> None:
    # the control of the test above: the same export with Claims only is an offer
    export = _eligible_export()
    files = {f"{k}.ndjson": v for k, v in export.items()} | {"Claim.ndjson": _claims(3)}
    run_audit(_write(tmp_path / "x", files), tmp_path / "out")
    (episode,) = _episodes(tmp_path / "out").values()
    assert episode["decision"] == "offer"
    assert _found(tmp_path / "out") == []


NO_TYPE_NAMES = ["data.ndjson", "log.ndjson", "export.ndjson.gz", "2024.ndjson"]


@pytest.fixture(scope="module")
def no_type_files(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``no_type_files(engine)``: the folder of the audit on ``engine`` of one export holding a
    woman per name of `NO_TYPE_NAMES` (each eligible, her ids prefixed ``w<n>.``), her ectopic
    Condition in a file of that name beside a kick-off line and a Claim (nothing else of hers
    there). Made when a test first asks; stop 55: one audit per engine, not one per name. Each
    file names no type, so the export's summary lists every one of them (and only them)."""
    outs: dict[str, Path] = {}

    def audit(engine: str) -> Path:
        if engine not in outs:
            folder = tmp_path_factory.mktemp(f"no-type-{engine}")
            women = [
                {k: namespaced(v, f"w{n}.") for k, v in _eligible_export().items()}
                for n in range(len(NO_TYPE_NAMES))
            ]
            files = {f"{k}.ndjson": v for k, v in concatenated(women).items()}
            for n, name in enumerate(NO_TYPE_NAMES):
                ectopic = namespaced([ectopic_today()], f"w{n}.")
                files[name] = [{"eventId": "kickoff"}, *ectopic, *_claims(1)]
            run_audit(_write(folder / "x", files), folder / "out", engine=engine)  # type: ignore[arg-type]
            outs[engine] = folder / "out"
        return outs[engine]

    return audit


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", NO_TYPE_NAMES)
def test_a_file_whose_name_gives_no_type_is_read_for_its_resources(
    engine: str, name: str, no_type_files: Callable[[str], Path]
) -> None:
    out = no_type_files(engine)  # her file is one of the export's (`no_type_files`)
    space = f"w{NO_TYPE_NAMES.index(name)}."
    (episode,) = [e for id_, e in _episodes(out).items() if id_.startswith(space)]
    assert episode["decision"] == "do_not_offer"
    summary = _summary(out)["fhir_export"]
    assert summary["ignored_files"] == sorted(NO_TYPE_NAMES)  # hers, and no file of a type
    found = _found(out)
    assert [f for f in found if f[0] == name] == [(name, None, "Condition", 1, "Condition")]
    assert found == sorted((n, None, "Condition", 1, "Condition") for n in NO_TYPE_NAMES)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert (
        f"{name}, a file whose name gives no resource type, holds 1 line of Condition: "
        "read as Condition." in report
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_a_whole_export_in_one_file_is_read_as_its_types(engine: str, tmp_path: Path) -> None:
    # every resource in one data.ndjson: nothing named, everything found; the same answers as
    # the export written one file per type
    export = _eligible_export()
    export["Condition"].append(ectopic_today())
    per_type = _write(tmp_path / "a", {f"{k}.ndjson": v for k, v in export.items()})
    lines = [r for k in sorted(export) for r in export[k]]
    one_file = _write(tmp_path / "b", {"data.ndjson": lines})
    run_audit(per_type, tmp_path / "out-a", engine=engine)  # type: ignore[arg-type]
    run_audit(one_file, tmp_path / "out-b", engine=engine)  # type: ignore[arg-type]
    assert _episodes(tmp_path / "out-b") == _episodes(tmp_path / "out-a")
    (episode,) = _episodes(tmp_path / "out-b").values()
    assert episode["decision"] == "do_not_offer"
    counts = {kind: n for _, _, kind, n, _ in _found(tmp_path / "out-b")}
    assert counts == {k: len(v) for k, v in export.items()}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_manifest_entry_of_a_skipped_type_is_read_for_its_resources(
    engine: str, tmp_path: Path
) -> None:
    export = _eligible_export()
    files = {f"{k}.ndjson": v for k, v in export.items()}
    files["claims-1.ndjson"] = [*_claims(2), ectopic_today()]
    files["stray.ndjson"] = [ectopic_today()]  # not listed: not part of the export
    folder = _write(tmp_path / "m", files)
    output = [
        {"type": k, "url": f"https://x/{k}.ndjson", "count": len(v)} for k, v in export.items()
    ]
    output.append({"type": "Claim", "url": "https://x/claims-1.ndjson", "count": 3})
    manifest = {"output": output, "error": []}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    run_audit(folder, tmp_path / "out", engine=engine)  # type: ignore[arg-type]
    (episode,) = _episodes(tmp_path / "out").values()
    assert episode["decision"] == "do_not_offer"
    summary = _summary(tmp_path / "out")["fhir_export"]
    assert summary["skipped_resource_types"] == {"Claim": 2}
    assert summary["ignored_files"] == ["stray.ndjson"]
    assert _found(tmp_path / "out") == [
        ("claims-1.ndjson", "Claim", "Condition", 1, "Condition"),
        ("stray.ndjson", None, "Condition", 1, None),
    ]
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert (
        "stray.ndjson, a file manifest.json does not list, holds 1 line of Condition: not read."
        in report
    )


def test_a_skipped_file_that_is_not_json_is_counted_never_a_crash(tmp_path: Path) -> None:
    export = _eligible_export()
    folder = _write(tmp_path / "x", {f"{k}.ndjson": v for k, v in export.items()})
    nan = json.dumps(ectopic_today() | {"id": "nan", "x": float("nan")})  # NaN: not JSON
    text = (
        "not json at all\n"
        '{"resourceType": "Condition", broken\n'  # looks like a Condition: is no resource
        "\n"
        "   \n" + json.dumps(ectopic_today()) + "\n" + nan + "\n\xff\xfe garbage "
    )
    (folder / "Claim.ndjson").write_bytes(text.encode("latin-1"))
    (folder / "notes.ndjson").write_bytes(b"\x00\x01\x02")
    # a byte order mark before a line (Python's reader skips it; DuckDB's would not mid-file)
    bom = "\ufeff" + json.dumps(condition("ect-2", "79586000", day()))
    (folder / "data.ndjson").write_bytes(b'{"eventId": "x"}\n' + bom.encode("utf-8") + b"\n")
    run_audit(folder, tmp_path / "out")
    (episode,) = _episodes(tmp_path / "out").values()
    assert episode["decision"] == "do_not_offer"
    summary = _summary(tmp_path / "out")["fhir_export"]
    assert summary["skipped_resource_types"] == {"Claim": 4}  # 5 non-empty lines, 1 read
    assert _found(tmp_path / "out") == [
        ("Claim.ndjson", "Claim", "Condition", 1, "Condition"),
        ("Claim.ndjson", "Claim", None, 2, None),  # looked like Conditions: listed, not read
        ("data.ndjson", None, "Condition", 1, "Condition"),
    ]
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Claim.ndjson, a file of Claim resources, holds 2 lines of no resourceType" in report


def test_a_type_spelled_with_escapes_is_found(tmp_path: Path) -> None:
    export = _eligible_export()
    folder = _write(tmp_path / "x", {f"{k}.ndjson": v for k, v in export.items()})
    line = json.dumps(ectopic_today()).replace('"Condition"', '"\\u0043ondition"', 1)
    assert '"Condition"' not in line
    (folder / "Claim.ndjson").write_text(line + "\n", encoding="utf-8")
    run_audit(folder, tmp_path / "out")
    (episode,) = _episodes(tmp_path / "out").values()
    assert episode["decision"] == "do_not_offer"


def test_found_lines_are_read_after_the_types_own_files(tmp_path: Path) -> None:
    # Claim.ndjson sorts before Patient.ndjson: a Patient found there must not be the one taken
    # for her id (the first), nor its Encounter numbered before the Encounter file's
    export = _eligible_export()
    (patient,) = export["Patient"]
    (encounter,) = export["Encounter"]
    files = {f"{k}.ndjson": v for k, v in export.items()}
    files["Claim.ndjson"] = [patient | {"birthDate": "2010-01-01"}, encounter | {"id": "enc-claim"}]
    folder = _write(tmp_path / "x", files)
    found = discover_export(folder, RESOURCES)
    for kind in ("Patient", "Encounter"):
        own, copy = found.of(kind)
        assert own == folder / f"{kind}.ndjson"
        assert copy.name == "Claim.ndjson" and copy.parent.parent != folder  # a copy of 1 line
        assert copy.read_text(encoding="utf-8").count("\n") == 1
    assert found.summary()["files_read"]["Patient"] == ["Patient.ndjson"]
    run_audit(folder, tmp_path / "out")
    episodes = _episodes(tmp_path / "out")
    assert list(episodes) == ["enc-1", "enc-claim"]
    assert {e["age_band"] for e in episodes.values()} == {"30-34"}  # born 1990, not 2010


@pytest.mark.parametrize("block", [7, 64, 1 << 20])
def test_the_scan_counts_lines_as_the_count_did_across_block_ends(
    block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from earlypath.audit import fhir_found
    from earlypath.audit.fhir_files import count_resources

    monkeypatch.setattr(fhir_found, "_BLOCK", block)
    condition = json.dumps(ectopic_today())
    spaced = condition.replace('"resourceType": "Condition"', '"resourceType" :\t"Condition"')
    text = (
        "\n  \n"
        + json.dumps(_claims(1)[0])
        + "\r\n\r\n"
        + condition
        + "\n\n \t\n"
        + spaced
        + "\r\nnot json\n"
        + '{"resourceType": "Patient", "id": "p"'  # no newline, not JSON
    )
    for name, data in (
        ("a.ndjson", text.encode()),
        ("b.ndjson.gz", gzip.compress(text.encode())),
    ):
        (tmp_path / name).write_bytes(data)
        selection = fhir_found.FoundSelection()
        total, found = fhir_found.scan_lines(tmp_path / name, frozenset(RESOURCES), selection)
        assert total == count_resources(tmp_path / name) == 5
        assert found == {"Condition": 2, None: 1}  # the last line looks like one: not JSON
        (copy,) = selection.made(tmp_path / name).values()
        assert [json.loads(line)["id"] for line in copy.read_text().splitlines()] == ["ect"] * 2
