"""Spark reads and judges FHIR exports as DuckDB does: every scenario's records in one export,
audited ONCE on each engine, then each scenario's own assertions on its part (one test per
scenario). The scenarios read only by the compiled definition (no audit) are
`tests/audit/test_spark_reading_agreement.py`'s: a module of its own since stop 35, so that
with ``--dist loadfile`` its module fixture and this one run on the two workers side by side.

Why one export: a small Spark audit of a FHIR export costs tens of seconds whatever its size (the
reading's large plan is built and run; the rows cost little), and these were 14 tests of 33-84 s
each, each auditing its own small export.

How the scenarios are kept apart: each scenario's files are written with its name before every
resource id and every literal reference (`tests.fhir_exports.namespaced`, e.g. ``counts.enc-x``),
so no two scenarios share a patient, an encounter or any resource; `_parts` gives a scenario its
own rows back, ids as the scenario wrote them. Every scenario checks its rows as its original test
did, and Spark = DuckDB on them; what a summary counts per export (reconciliation, the export's
files, rejects, the counts) is compared Spark = DuckDB on the whole export
(`test_spark_counts_the_whole_export_as_duckdb_does`).

To add a scenario (a few lines):

- audited: a function returning ``{file name: resources}`` (`_typed` for one file per type; a
  name may be a part, ``Observation.001.ndjson``, or gzipped, ``Claim.ndjson.gz``) and a check
  ``(spark_part, duckdb_part) -> None``, added to `AUDITED` under its name; the check gets
  `Part`s: the episodes by id, the flat rows by id, the summary's lines of another type by file;
- read only (the compiled definition, no audit): added to `READ` in
  `tests/audit/test_spark_reading_agreement.py`.

A scenario whose export needs files another scenario would change (a manifest, an export
without a type's file) stays a test of its own.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

import earlypath.audit.fhir_read as fhir_read
from earlypath.audit.load import RAW
from earlypath.audit.run import AuditResult, run_audit
from earlypath.synth.cohort import write_cohort
from tests.audit import (
    synthea_like,
    test_fhir_care_given,
    test_fhir_counts,
    test_fhir_icd10,
    test_fhir_identifier_subject,
    test_fhir_medicines_read,
    test_fhir_merged_patients,
    test_fhir_partial_dates,
    test_fhir_real_scans,
    test_fhir_spark,
    test_fhir_untied_care,
)
from tests.audit.test_fhir_panel_components import FLAT
from tests.conftest_spark import AGREEMENT, session_settings
from tests.fhir_exports import Export, namespaced, one_export, shape_of
from tests.records import earlier_crl_shapes as earlier_crl
from tests.records import unverified_dating_shapes as unverified_dating
from tests.records.identifier_shapes import identifier_export
from tests.records.merge_shapes import one_export as merged_export
from tests.records.panel_vignettes import woman_with_panel
from tests.records.real_shapes import MEDICATION_SHAPES, export_of, with_current_medication
from tests.records.scan_shapes import (
    IMAGES_LATER_52,
    IMAGES_ONLY_LATER,
    REPORT_VERSIONS,
    UNREAD_REPORTS,
)

pytestmark = pytest.mark.spark

Files = dict[str, list[dict[str, Any]]]
SEP = "."  # between a scenario's name and its ids


@dataclass(frozen=True)
class Part:
    """One scenario's part of an engine's audit of the whole export (ids as the scenario wrote
    them)."""

    episodes: dict[str, dict[str, Any]]  # episode_id -> its row of episodes.parquet
    flat: dict[str, dict[str, Any]]  # episode_id -> its flat row (the reading's cells)
    other_lines: list[dict[str, Any]]  # summary.json's lines_of_another_type in its files


def _typed(export: Export) -> Files:
    """An export as one ``<Type>.ndjson`` file per type."""
    return {f"{kind}.ndjson": resources for kind, resources in export.items()}


def _read_back(folder: Path) -> Files:
    """The NDJSON files an export writer wrote into ``folder``, by name."""
    return {
        p.name: [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line]
        for p in sorted(folder.glob("*.ndjson"))
    }


def _by_case(episodes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Episodes by case, as the tests of `tests.fhir_exports.one_export` exports key them."""
    return {eid.removeprefix("enc-"): row for eid, row in episodes.items()}


# --- the audited scenarios: files, and the original test's assertions ---------------------------


def _same(spark: Part, duck: Part) -> None:
    assert spark.episodes == duck.episodes


def _counts() -> Files:
    cases = test_fhir_counts.CASES
    return _typed(one_export({name: export_of(r) for name, (r, _, _) in cases.items()}))


def _check_counts(spark: Part, duck: Part) -> None:
    test_fhir_counts._check(_by_case(spark.episodes))
    _same(spark, duck)


def _icd10() -> Files:
    return _typed(one_export({name: e for name, (e, _) in test_fhir_icd10._cases().items()}))


def _check_icd10(spark: Part, duck: Part) -> None:
    test_fhir_icd10._check(_by_case(spark.episodes))
    _same(spark, duck)


# the scans of tests/audit/test_fhir_real_scans.py (`CASES`: every list of
# tests/records/scan_shapes.py it reads, with `imaging-study-only`, stop 51) and a later scan
# known only by its images after a confirmed one (`IMAGES_ONLY_LATER`, stop 51, HAZ-20 C20.50);
# stop 53: and the studies of stop 52 with a scan known only by its Procedure and the words'
# separators (`IMAGES_LATER_52`, HAZ-20 C20.53-C20.62), on Spark too
SCANS = {**test_fhir_real_scans.CASES, **IMAGES_ONLY_LATER, **IMAGES_LATER_52}


def _real_scans() -> Files:
    return _typed(test_fhir_real_scans._export(SCANS))


def _check_real_scans(spark: Part, duck: Part) -> None:
    """Each scan decided as on DuckDB and the card; scan images with no report hold the offer
    back on Spark too, naming the report to read (stop 51)."""
    test_fhir_real_scans._check(_by_case(spark.episodes), SCANS)
    _same(spark, duck)


def _check_partial_dates(spark: Part, duck: Part) -> None:
    test_fhir_partial_dates.check(_by_case(spark.episodes))
    flat = _by_case(spark.flat)
    for name, (_, previous, diagnosed, _) in test_fhir_partial_dates.CASES.items():
        cells = (flat[name]["previous_miscarriages"], flat[name]["miscarriage_diagnosed"])
        assert cells == test_fhir_partial_dates.flat_cells(previous, diagnosed), name
    _same(spark, duck)


def _unread_reports() -> Files:
    return _typed(test_fhir_real_scans._export(UNREAD_REPORTS))


def _check_unread_reports(spark: Part, duck: Part) -> None:
    """A later scan report that could not be read holds the offer back on Spark too (stop 24)."""
    test_fhir_real_scans._check(_by_case(spark.episodes), UNREAD_REPORTS)
    test_fhir_real_scans.check_unread_scan(_by_case(spark.flat))
    _same(spark, duck)


def _check_report_versions(spark: Part, duck: Part) -> None:
    """One version of a scan report read on Spark too, its versions in two files (stop 27)."""
    test_fhir_real_scans._check(_by_case(spark.episodes), REPORT_VERSIONS)
    _same(spark, duck)


def _check_finding_versions(spark: Part, duck: Part) -> None:
    """One version of a finding sent as an Observation read on Spark too, its versions in two
    files, and two women's report and finding under one id each read from her own (stop 28)."""
    test_fhir_real_scans._check(_by_case(spark.episodes), test_fhir_real_scans.VERSIONS_PER_PATIENT)
    _same(spark, duck)


def _check_merged(spark: Part, duck: Part) -> None:
    test_fhir_merged_patients._check(_by_case(spark.episodes))
    _same(spark, duck)


def _check_versions_per_woman(spark: Part, duck: Part) -> None:
    """An id's versions ranked per woman after merges and identifier ties on Spark too (HAZ-20
    C20.20, stop 30): across her merged records, her NHS number; two women never meet."""
    test_fhir_merged_patients.check_versions(_by_case(spark.episodes))
    _same(spark, duck)


def _medicines() -> Files:
    return _typed(one_export(test_fhir_medicines_read._cases()))


def _check_medicines(spark: Part, duck: Part) -> None:
    test_fhir_medicines_read._check(spark.episodes)
    _same(spark, duck)


def medication_shapes() -> Export:
    """Every prescription shape of `MEDICATION_SHAPES` (a woman each, on the shape's current
    prescription), each namespaced by its shape: her Medication ids and references are her own."""
    out: Export = {}
    for shape in MEDICATION_SHAPES:
        resources, exported = with_current_medication(shape)
        for kind, own in export_of([*resources, *exported]).items():
            out.setdefault(kind, []).extend(namespaced(own, f"{shape}{SEP}"))
    return out


# on progesterone (the shape's third field) -> the decision, as in tests/records/test_real_shapes.py
ON_PROGESTERONE = {None: "needs_information", False: "offer", True: "continue"}


def _check_medication_shapes(spark: Part, duck: Part) -> None:
    """Her current prescription decided on Spark as on DuckDB and the card: a Gestone AMP or
    pack named only by its brand is progesterone (stop 51, HAZ-20 C20.49), a bare dm+d product
    code Unknown (needs information, naming on_progesterone), never "not on it"."""
    got = {eid.removesuffix(f"{SEP}enc-1"): row for eid, row in spark.episodes.items()}
    assert sorted(got) == sorted(MEDICATION_SHAPES)
    for shape, (_, _, on_progesterone) in MEDICATION_SHAPES.items():
        assert got[shape]["decision"] == ON_PROGESTERONE[on_progesterone], shape
        if on_progesterone is None:
            assert got[shape]["missing"] == ["on_progesterone"], shape
    _same(spark, duck)
    assert spark.flat == duck.flat


def _care_given() -> Files:
    return _typed(test_fhir_care_given._export(test_fhir_care_given.WITH_PRESCRIPTIONS, True))


def _check_care_given(spark: Part, duck: Part) -> None:
    test_fhir_care_given._check(_by_case(spark.episodes), test_fhir_care_given.WITH_PRESCRIPTIONS)
    _same(spark, duck)


def _panels() -> Files:
    return _typed(one_export({fact: export_of(woman_with_panel(fact)) for fact in FLAT}))


def _check_panels(spark: Part, duck: Part) -> None:
    """Each panel finding read into the flat cells on Spark, and the CRL dates her and offers."""
    assert sorted(spark.flat) == sorted(f"enc-{fact}" for fact in FLAT)
    for fact, cells in FLAT.items():
        row = spark.flat[f"enc-{fact}"]
        assert {k: row[k] for k in cells} == cells, fact
    assert spark.episodes["enc-crl"]["decision"] == "offer"
    assert spark.episodes["enc-crl"]["gestation_days"] == 49
    _same(spark, duck)


def _synthetic_cohort(tmp: Path) -> Files:
    """2500 synthetic presentations as FHIR (was `tests/audit/test_fhir.py`'s Spark test)."""
    return _read_back(write_cohort(2500, 21, "fhir-ndjson", tmp / "cohort"))


def _check_synthetic_cohort(spark: Part, duck: Part) -> None:
    keep = ["row_number", "episode_id", "decision", "recommendations", "missing", "adherence"]
    assert len(spark.episodes) == len(duck.episodes) > 0
    for eid, row in spark.episodes.items():
        assert {k: row[k] for k in keep} == {k: duck.episodes[eid][k] for k in keep}, eid


def _fhir_spark(tmp: Path) -> Files:
    return _read_back(test_fhir_spark.write_the_export(tmp / "fhir-spark"))


def _check_fhir_spark(spark: Part, duck: Part) -> None:
    # (its counts: 54 in, 1 rejected, 2 excluded, on DuckDB in test_fhir_spark.py; Spark's
    # equal DuckDB's over the whole export below)
    assert len(spark.episodes) == len(duck.episodes) == 50 + 1  # (the typed visit is judged)
    _same(spark, duck)


def _synthea() -> Files:
    files = {f"1.{kind}.ndjson": r for kind, r in synthea_like.resources().items()}
    return {**files, "log.ndjson": [{"eventId": "kickoff"}]}


def _check_synthea(spark: Part, duck: Part) -> None:
    assert set(spark.episodes) == {e for e, why in synthea_like.TRUTH.items() if not why}
    _same(spark, duck)


def _check_another_type(spark: Part, duck: Part) -> None:
    assert [r["decision"] for r in spark.episodes.values()] == ["do_not_offer"]
    other = [(o["file"], o["resourceType"], o["read_as"]) for o in spark.other_lines]
    assert other == test_fhir_spark.ANOTHER_TYPE_LINES
    assert spark.other_lines == duck.other_lines
    _same(spark, duck)


def _check_skipped_file(spark: Part, duck: Part) -> None:
    assert [r["decision"] for r in spark.episodes.values()] == ["do_not_offer"]
    other = [(o["file"], o["file_type"], o["lines"], o["read_as"]) for o in spark.other_lines]
    assert other == test_fhir_spark.SKIPPED_FILE_LINES
    assert spark.other_lines == duck.other_lines
    _same(spark, duck)


def _check_identifiers(spark: Part, duck: Part) -> None:
    """Resources naming her only by an identifier tied as the rule says (its summary counts:
    Spark's equal DuckDB's over the whole export below; their figures on DuckDB in
    test_fhir_identifier_subject.py)."""
    _, hers = identifier_export()
    test_fhir_identifier_subject._check(_by_case(spark.episodes), hers)
    _same(spark, duck)


def _check_untied_care(spark: Part, duck: Part) -> None:
    """Progesterone care tied to nobody: each woman's care as on DuckDB (its count and bound on
    the whole export's summary, Spark's = DuckDB's, below; on DuckDB alone in
    test_fhir_untied_care.py)."""
    got = {case: (r["decision"], r["adherence"]) for case, r in _by_case(spark.episodes).items()}
    cases = test_fhir_untied_care.CASES
    assert got == {name: ("offer", adherence) for name, (_, adherence) in cases.items()}
    _same(spark, duck)


def _check_earlier_crl(spark: Part, duck: Part) -> None:
    """A CRL on an earlier scan of this pregnancy dates her in the audit as on the card (stop
    44): offered, 52 days; a previous pregnancy's CRL dates her not (test_cds_earlier_crl.py)."""
    got = {shape_of(eid): row for eid, row in spark.episodes.items()}
    assert sorted(got) == sorted(earlier_crl.SHAPES)
    for shape in {**earlier_crl.EARLIER_DATES, **earlier_crl.TODAY_DATES}:
        assert got[shape]["decision"] == "offer", shape
    for shape in earlier_crl.EARLIER_DATES:
        assert got[shape]["gestation_days"] == earlier_crl.GESTATION_DAYS, shape
    for shape in earlier_crl.PREVIOUS_PREGNANCY:
        assert got[shape]["decision"] == "needs_information", shape
    _same(spark, duck)
    assert spark.flat == duck.flat


def _check_unverified_crl(spark: Part, duck: Part) -> None:
    """A CRL on a preliminary/unknown result dates her in the audit as on the card (stop 45): it
    never dates her (alone: needs information, no gestation; beside a final LMP of 17+0: 119
    days, no offer), the controls still offered (test_cds_real_unverified_crl.py)."""
    got = {shape_of(eid): row for eid, row in spark.episodes.items()}
    assert sorted(got) == sorted(unverified_dating.CRL_SHAPES)
    for shape in unverified_dating.CRL_CONTROLS:
        assert got[shape]["decision"] == "offer", shape
    for shape in unverified_dating.UNVERIFIED_CRL_ALONE:
        assert got[shape]["decision"] == "needs_information", shape
        assert got[shape]["gestation_days"] is None, shape
    for shape in unverified_dating.UNVERIFIED_CRL_OVER_FINAL_LMP:
        assert got[shape]["gestation_days"] == 17 * 7, shape
        assert got[shape]["decision"] != "offer", shape
    _same(spark, duck)
    assert spark.flat == duck.flat


Check = Callable[[Part, Part], None]
# name -> (its files, given a folder to write into; its check)
AUDITED: dict[str, tuple[Callable[[Path], Files], Check]] = {
    "counts": (lambda _: _counts(), _check_counts),
    "icd10": (lambda _: _icd10(), _check_icd10),
    "real-scans": (lambda _: _real_scans(), _check_real_scans),
    "unread-scan-reports": (lambda _: _unread_reports(), _check_unread_reports),
    "report-versions-in-two-files": (
        lambda _: test_fhir_real_scans.report_versions_in_two_files(),
        _check_report_versions,
    ),
    "finding-versions-per-patient": (
        lambda _: test_fhir_real_scans.versions_per_patient_files(),
        _check_finding_versions,
    ),
    "merged-patients": (lambda _: _typed(merged_export()), _check_merged),
    "versions-per-woman": (
        lambda _: _typed(test_fhir_merged_patients.versions_export()),
        _check_versions_per_woman,
    ),
    "medicines": (lambda _: _medicines(), _check_medicines),
    # stop 52: every medicine shape of tests/records/real_shapes.py (Gestone, Cyclogest packs)
    "medication-shapes": (lambda _: _typed(medication_shapes()), _check_medication_shapes),
    "care-given": (lambda _: _care_given(), _check_care_given),
    "panel-components": (lambda _: _panels(), _check_panels),
    "synthetic-cohort": (_synthetic_cohort, _check_synthetic_cohort),
    "fhir-spark": (_fhir_spark, _check_fhir_spark),
    "synthea-like": (lambda _: _synthea(), _check_synthea),
    "another-type": (lambda _: test_fhir_spark.another_type_files(), _check_another_type),
    "skipped-file": (lambda _: test_fhir_spark.skipped_file_files(), _check_skipped_file),
    "identifier-subject": (lambda _: _typed(identifier_export()[0]), _check_identifiers),
    "partial-dates": (
        lambda _: _typed(one_export(test_fhir_partial_dates.exports())),
        _check_partial_dates,
    ),
    "untied-care": (
        lambda _: _typed(test_fhir_untied_care.untied_care_export()),
        _check_untied_care,
    ),
    "earlier-crl": (lambda _: _typed(earlier_crl.export()), _check_earlier_crl),
    "unverified-crl": (
        lambda _: _typed(unverified_dating.crl_export()),
        _check_unverified_crl,
    ),
}


# --- writing the one export -----------------------------------------------------------------------


def _space(name: str) -> str:
    return f"{name}{SEP}"


def _write(scenarios: dict[str, Files], folder: Path) -> dict[str, set[str]]:
    """Every scenario's files, namespaced, as one export in ``folder`` (a file of a name holds
    the scenarios' lines in their order); returns each scenario's file names."""
    files: Files = {}
    names: dict[str, set[str]] = {}
    for name, own in scenarios.items():
        for file, resources in own.items():
            files.setdefault(file, []).extend(namespaced(resources, _space(name)))
        names[name] = set(own)
    folder.mkdir(parents=True, exist_ok=True)
    for file, resources in files.items():
        data = "".join(json.dumps(r) + "\n" for r in resources).encode("utf-8")
        (folder / file).write_bytes(gzip.compress(data) if file.endswith(".gz") else data)
    return names


def _parts(
    episodes: list[dict[str, Any]],
    flat: list[dict[str, Any]],
    other_lines: list[dict[str, Any]],
    files: dict[str, set[str]],
) -> dict[str, Part]:
    """Each scenario's rows (its ids without its name) and the lines of another type in the files
    only it writes."""
    out = {}
    for name in files:
        own = files[name].difference(*(f for other, f in files.items() if other != name))
        space = _space(name)
        out[name] = Part(
            {
                r["episode_id"].removeprefix(space): r
                for r in episodes
                if r["episode_id"].startswith(space)
            },
            {
                r["episode_id"].removeprefix(space): r
                for r in flat
                if r["episode_id"].startswith(space)
            },
            [o for o in other_lines if o["file"] in own],
        )
    return out


@dataclass(frozen=True)
class Audited:
    """The one export audited on each engine."""

    parts: dict[str, tuple[Part, Part]]  # scenario -> (Spark's part, DuckDB's part)
    results: tuple[AuditResult, AuditResult]  # (Spark, DuckDB)
    out: tuple[Path, Path]  # the output folders (Spark, DuckDB)


def _episodes(out: Path) -> list[dict[str, Any]]:
    return pq.read_table(out / "episodes.parquet").to_pylist()


def _other_lines(out: Path) -> list[dict[str, Any]]:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return list(summary["fhir_export"].get("lines_of_another_type", []))


def _judged_on_spark(spark: Any) -> list[dict[str, Any]]:
    """The flat rows the Spark audit judged (the audit's input view: one more Spark job)."""
    return ibis.pyspark.connect(spark).table(RAW).to_pyarrow().to_pylist()


@pytest.fixture(scope="module")
def audited(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Audited:
    root = tmp_path_factory.mktemp("agreement")
    scenarios = {name: files(root) for name, (files, _) in AUDITED.items()}
    folder = root / "in"
    files = _write(scenarios, folder)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the Spark audit flattened the export with DuckDB")

    # Spark reads the export itself; no code generated for the reading's and judging's plans,
    # one shuffle partition (`AGREEMENT`)
    with pytest.MonkeyPatch.context() as patch, session_settings(spark, AGREEMENT):
        patch.setattr(fhir_read, "flatten_fhir_duckdb", refuse)
        on_spark = run_audit(folder, root / "s", engine="spark", spark=spark)
        spark_flat = _judged_on_spark(spark)
    # DuckDB's flat rows: those its audit judged, fetched from the audit's own reading (the
    # view it flattened the export into) rather than by reading the export a second time
    duck_flat: list[dict[str, Any]] = []
    flatten = fhir_read.flatten_fhir_duckdb

    def flatten_and_keep_the_rows(con: Any, source: Any, name: str) -> Any:
        reading = flatten(con, source, name)
        duck_flat.extend(con.table(name).to_pyarrow().to_pylist())
        return reading

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fhir_read, "flatten_fhir_duckdb", flatten_and_keep_the_rows)
        on_duckdb = run_audit(folder, root / "d", engine="duckdb")
    assert duck_flat, "the DuckDB audit did not flatten the export"
    spark_parts = _parts(_episodes(root / "s"), spark_flat, _other_lines(root / "s"), files)
    duck_parts = _parts(_episodes(root / "d"), duck_flat, _other_lines(root / "d"), files)
    return Audited(
        {name: (spark_parts[name], duck_parts[name]) for name in files},
        (on_spark, on_duckdb),
        (root / "s", root / "d"),
    )


@pytest.mark.parametrize("scenario", list(AUDITED))
def test_spark_audits_each_scenario_as_duckdb_does(scenario: str, audited: Audited) -> None:
    spark, duck = audited.parts[scenario]
    AUDITED[scenario][1](spark, duck)


def test_spark_reads_the_flat_cells_duckdb_reads(audited: Audited) -> None:
    for name, (spark, duck) in audited.parts.items():
        assert spark.flat.keys() == duck.flat.keys(), name
        for eid, row in spark.flat.items():
            assert row == duck.flat[eid], (name, eid)


def test_spark_counts_the_whole_export_as_duckdb_does(audited: Audited) -> None:
    """What the audit counts per export (was asserted per scenario export: the synthetic
    export's counts and rejects, the reconciliation of the Synthea-like export, the summary's
    fhir_export of the skipped-file export) agrees on the whole export."""
    spark, duck = audited.results
    counts = ("rows_in", "evaluated", "rejected", "excluded")
    assert [getattr(spark, c) for c in counts] == [getattr(duck, c) for c in counts]
    s, d = audited.out
    assert len(_episodes(s)) == duck.evaluated
    assert _episodes(s) == _episodes(d)
    assert (s / "rejects.csv").read_text() == (d / "rejects.csv").read_text()
    summaries = [json.loads((o / "summary.json").read_text()) for o in (s, d)]
    assert summaries[0]["reconciliation"] == summaries[1]["reconciliation"]
    assert summaries[0]["fhir_export"] == summaries[1]["fhir_export"]
    # the untied-care scenario's record at its EPU (the site of the encounter it names)
    untied = summaries[0]["fhir_export"]["progesterone_care_not_tied"]
    assert untied["by_site"][f"untied-care{SEP}epu-north"] == 1
