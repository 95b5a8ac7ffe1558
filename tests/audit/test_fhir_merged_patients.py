"""The FHIR audit reads a woman whose record was merged (Patient.link) as one woman (issue 12,
real records; `tests.records.merge_shapes`): her previous miscarriage under the old Patient id is
seen at her scan under the new one ("offer"; it was judged without it, as if her history were
unknown), through either side's link, absolute references and a chain of two merges; an
encounter written under the old id is hers. A cycle or a record merged into two different
records is not merged and is named in summary.json; seealso links merge nothing. On DuckDB, the
Python engine and Spark alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from earlypath.records.merges import CONFLICT_MESSAGE, CYCLE_MESSAGE
from earlypath.records.plan_choice import SETTING as SPECIALISE_FROM_BYTES
from tests import fhir_exports
from tests.fhir_exports import Export, woman, write_export
from tests.integration.fhir_data import PATIENT_ID, day, observation
from tests.records.merge_shapes import AUDIT_CASES, link, one_export
from tests.records.real_shapes import export_of
from tests.records.scan_shapes import FINDINGS, IUP_CONCEPT, scan_report, scanned


def _audit(folder: Path, out: Path, engine: str, **kwargs: Any) -> dict[str, dict[str, Any]]:
    run_audit(folder, out, engine=engine, **kwargs)  # type: ignore[arg-type]
    rows = pq.read_table(out / "episodes.parquet").to_pylist()
    return {r["episode_id"].removeprefix("enc-"): r for r in rows}


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_export(one_export(), tmp_path_factory.mktemp("merged") / "in")


def _check(rows: dict[str, dict[str, Any]]) -> None:
    assert set(rows) == set(AUDIT_CASES)
    for case, (_, one_woman) in AUDIT_CASES.items():
        row = rows[case]
        if one_woman:
            assert (row["decision"], row["missing"]) == ("offer", []), case
            assert row["age_band"] == "30-34", case  # her surviving Patient's birth date
        else:  # not merged: her history is not read as hers (unknown, never "none")
            assert row["decision"] == "needs_information", case
            assert row["missing"] == ["previous_miscarriages"], case


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_merged_record_is_read_as_one_woman(
    engine: str, export_folder: Path, tmp_path: Path
) -> None:
    _check(_audit(export_folder, tmp_path / "out", engine))
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    merges = summary["fhir_export"]["patient_merges"]
    # old, first, middle (twice: merged and old side, new side, seen under old)
    assert merges["records_read_as_another"] == 6
    assert merges["encounters_of_unresolved_merges"] == {CONFLICT_MESSAGE: 1, CYCLE_MESSAGE: 1}
    assert merges["links_not_used"] == {"seealso": 2}
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "6 merged patient records (Patient.link) read as the record in use" in report
    assert "1 encounter of a patient record that has merge links" in report


def test_an_export_without_links_says_nothing_of_merges(tmp_path: Path) -> None:
    export, _ = AUDIT_CASES["merged"]
    plain = {k: [dict(r) for r in v] for k, v in export.items()}
    for p in plain["Patient"]:
        p.pop("link", None)
    _audit(write_export(plain, tmp_path / "in"), tmp_path / "out", "duckdb")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert "patient_merges" not in summary["fhir_export"]
    # nor of resources named by identifier: none here (stop 23, `records.identifiers`)
    assert "subjects_by_identifier" not in summary["fhir_export"]


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).


# Versions of one scan finding (one Observation or DiagnosticReport id) whose subjects name one
# woman in two ways, or two women by identifier only (HAZ-20 C20.20). Until stop 30 the audit
# ranked an id's versions per subject as written, before the identifier ties and the merges made
# rows hers (`_Episodes._as_hers`): (1) her original intrauterine finding under her merged-away id
# was not replaced by its amendment under hers ("offer" on the superseded finding; the card ranks
# them together since stop 29: the CDS call holds one woman's record), and a pair that repeats
# only across the merge was not even counted as repeated (`kept_count`); (2) two women's versions
# naming each by her NHS number only were ranked as one id's: one woman's amendment replaced the
# other's finding. The compiled reading's row stage now compares the woman (`records.women`).
_NHS = "https://fhir.nhs.uk/Id/nhs-number"
_FOUND = observation("us-find", *FINDINGS, day(), valueCodeableConcept=IUP_CONCEPT)
_FOUND_AMENDED = {
    **{k: v for k, v in _FOUND.items() if k != "valueCodeableConcept"},
    "status": "amended",
    "valueString": "No intrauterine pregnancy seen; retained products",
}
_REPORT = scan_report(conclusion=IUP_CONCEPT, rid="us-dup")
# the latest version withdraws the report: nothing of it is read (no scan shows where)
_REPORT_WITHDRAWN = {**_REPORT, "status": "entered-in-error", "issued": f"{day()}T15:00:00Z"}
# one NHS number per woman named by it (valid check digits; none other in the Spark export)
NUMBERS = {"ident-a": "9000000009", "ident-b": "9000000017", "tied-hers": "9000000025"}


def _under(resource: dict[str, Any], pid: str) -> dict[str, Any]:
    return {**resource, "subject": {"reference": f"Patient/{pid}"}}


def _merged(first: dict[str, Any], then: dict[str, Any], old: str, old_first: bool) -> Export:
    """Her record (Patient ``PATIENT_ID``) with ``old`` merged into it, the first version under
    ``old`` (``old_first``) or the second."""
    versions = (_under(first, old), then) if old_first else (first, _under(then, old))
    export = export_of(scanned(*versions))
    export["Patient"][0]["link"] = [link("replaces", old)]
    export["Patient"].append({**woman(old), "link": [link("replaced-by", PATIENT_ID)]})
    return export


def _by_number(export: Export, name: str, rid: str, every: bool) -> None:
    """Her Patient carries her NHS number; her resource ``rid`` (every version, or the last)
    names her by it only, its id the one given (one id in two women's records: two systems
    merged)."""
    number = NUMBERS[name]
    for p in export["Patient"]:
        if p["id"] == f"p-{name}":
            p["identifier"] = [{"system": _NHS, "value": number}]
    versions = [r for r in export["Observation"] if r["id"] == f"{name}-{rid}"]
    for r in versions:
        r["id"] = rid
    for r in versions if every else versions[-1:]:
        r["subject"] = {"identifier": {"system": _NHS, "value": number}}


# case -> (her record, the decision the latest version gives)
VERSION_CASES: dict[str, tuple[Export, str]] = {
    # the pair repeats only across the merge: original under her merged-away id
    "merged": (_merged(_FOUND, _FOUND_AMENDED, "old-merged", True), "needs_information"),
    # ... or the amendment under it
    "merged-back": (_merged(_FOUND, _FOUND_AMENDED, "old-merged-back", False), "needs_information"),
    # a report's versions alike: its latest, under her surviving id, withdraws it
    "merged-report": (
        _merged(_REPORT, _REPORT_WITHDRAWN, "old-merged-report", True),
        "needs_information",
    ),
    # her amendment names her by her NHS number only: hers, ranked with her original
    "tied-hers": (export_of(scanned(_FOUND, _FOUND_AMENDED)), "needs_information"),
    # two women each named by her NHS number only, one id: never ranked together
    "ident-a": (export_of(scanned(_FOUND)), "offer"),
    "ident-b": (export_of(scanned(_FOUND_AMENDED)), "needs_information"),
}


def versions_export() -> Export:
    """Every case of `VERSION_CASES` in one export, each her own patient and encounter."""
    export = fhir_exports.one_export({case: e for case, (e, _) in VERSION_CASES.items()})
    _by_number(export, "tied-hers", "us-find", every=False)
    _by_number(export, "ident-a", "us-find", every=True)
    _by_number(export, "ident-b", "us-find", every=True)
    return export


def check_versions(rows: dict[str, dict[str, Any]]) -> None:
    """Each case's decision, by case (the rows of `versions_export`'s audit)."""
    got = {case: rows[case]["decision"] for case in VERSION_CASES}
    assert got == {case: decision for case, (_, decision) in VERSION_CASES.items()}, got
    for case, (_, decision) in VERSION_CASES.items():
        if decision == "needs_information":  # no scan read: the scan is what is missing
            assert rows[case]["missing"] == ["scans"], (case, rows[case]["missing"])


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_versions_of_a_finding_are_ranked_per_woman_after_merges_and_ties(
    engine: str, tmp_path: Path
) -> None:
    rows = _audit(write_export(versions_export(), tmp_path / "in"), tmp_path / "out", engine)
    check_versions(rows)


def test_a_pair_repeated_only_across_a_merge_is_ranked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export whose only repeated (patient, id) pairs repeat across a merge: counted as
    written, no pair repeats and no version is ranked (`kept_count`: each read as its own
    row), so the kept count must count them per woman too. (Counted however small the export:
    a small one is otherwise given the general plan, every version ranked, `plan_choice`.)"""
    monkeypatch.setenv(SPECIALISE_FROM_BYTES, "0")
    cases = ("merged", "merged-back", "merged-report")
    export = fhir_exports.one_export({case: VERSION_CASES[case][0] for case in cases})
    rows = _audit(write_export(export, tmp_path / "in"), tmp_path / "out", "duckdb")
    got = {case: (rows[case]["decision"], rows[case]["missing"]) for case in cases}
    assert got == dict.fromkeys(cases, ("needs_information", ["scans"])), got
