"""Spark reads FHIR exports as DuckDB does, by the compiled definition (no audit): every read
scenario's records and 60 synthetic women in one export, read once on each engine, then each
scenario's own assertions on its part (one test per scenario), and every encounter's steps and
problems compared row for row.

The read half of `tests/audit/test_spark_agreement.py` (stop 23), in a module of its own since
stop 35: with ``--dist loadfile`` a module stays on one worker, and the two module fixtures
(the audit's, ~185-265 s, and this reading's, ~150 s, in a fresh-clone run) ran one after the
other on the same worker; apart, each worker's Spark session takes one. Nothing read or checked
changed: the same export, the same scenarios, the same assertions.

To add a read scenario: an export (type -> resources) and a check ``(export, spark_readings,
duckdb_readings) -> None``, added to `READ`; a reading is each encounter's steps and problems
(`tests.records.test_engines_agree.readings_of`). Ids and references are namespaced by the
scenario's name as in the audited module (`tests.fhir_exports.namespaced`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pytest

from earlypath.records.definition import (
    BLEEDING_ABATED_MESSAGE,
    BLEEDING_ACTIVE_ABATED_MESSAGE,
    EDD_NOT_A_DAY_MESSAGE,
    EDD_UNREADABLE_MESSAGE,
    GESTATIONAL_AGE_UNREADABLE_MESSAGE,
    IUP_NOT_SEEN_MESSAGE,
    LMP_AGAINST_EDD_MESSAGE,
    LMP_AGAINST_GESTATIONAL_AGE_MESSAGE,
    LMP_UNCHECKED_MESSAGE,
    UNCONFIRMED_BLEEDING_MESSAGE,
    UNCONFIRMED_MESSAGE,
    UNCONFIRMED_MISCARRIAGE_MESSAGE,
)
from earlypath.synth.cohort import generate_chunks
from earlypath.synth.fhir_export import write_fhir
from tests.audit import test_fhir_real_scans as real_scans
from tests.audit.test_fhir_malformed import spark_export as malformed_export
from tests.audit.test_spark_agreement import SCANS, _read_back, _space, medication_shapes
from tests.conftest_spark import AGREEMENT, INTERPRETED, session_settings
from tests.fhir_exports import Export, export_merges, namespaced, write_export
from tests.records import abated_bleeding_shapes as abated_bleeding
from tests.records import earlier_crl_shapes as earlier_crl
from tests.records import edd_shapes
from tests.records import gestational_age_shapes as gestational_age
from tests.records import gp_read_shapes as gp_read
from tests.records import hcg_interpretation_shapes as hcg_interpretation
from tests.records import heart_rate_shapes as heart_rate
from tests.records import instant_day_shapes as instant_days
from tests.records import iup_not_seen_shapes as iup_not_seen
from tests.records import latest_unknown_shapes as latest_unknown
from tests.records import length_version_shapes as length_versions
from tests.records import locally_coded_shapes as locally_coded
from tests.records import panel_member_shapes as panel_members
from tests.records import procedure_route_shapes as procedure_routes
from tests.records import report_crl_shapes as report_crl
from tests.records import report_route_shapes as report_routes
from tests.records import scan_route_shapes as scan_routes
from tests.records import status_unknown_shapes as status_unknown
from tests.records import test_not_pregnant_and_no_patient as not_pregnant
from tests.records import test_previous_ectopic as previous_ectopic
from tests.records import test_previous_history as previous_history
from tests.records import unconfirmed_condition_shapes as unconfirmed_condition
from tests.records import unverified_dating_shapes as unverified_dating
from tests.records import unverified_observation_shapes as unverified_observation
from tests.records.scan_shapes import IMAGES_PROBLEMS
from tests.records.test_earlier_crl import check_reading as check_earlier_crl
from tests.records.test_engines_agree import assert_same, readings_of
from tests.records.test_ibis_export import compiled_reading, episode_rows, fetched
from tests.records.test_latest_unknown import check_reading as check_latest_unknown
from tests.records.test_locally_coded import check_reading as check_locally_coded
from tests.records.test_unverified_dating import check_reading as check_unverified_dating
from tests.records.test_unverified_observation import (
    check_reading as check_unverified_observation,
)

pytestmark = pytest.mark.spark


# --- the scenarios read only (the compiled definition over the export, no audit) -----------------


def _check_malformed(export: Export, spark: list[dict], duck: list[dict]) -> None:
    assert_same(export, spark)  # Spark reads and reports them as the service does


def _check_not_pregnant(export: Export, spark: list[dict], duck: list[dict]) -> None:
    not_pregnant.check_spark(spark, duck, _space("not-pregnant"))


def _check_previous_ectopic(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A previous ectopic pregnancy read as the card reads it (stop 27), on Spark and DuckDB."""
    previous_ectopic.check(export, spark)
    previous_ectopic.check(export, duck)


def _check_previous_history(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A previous ectopic or miscarriage read from a history entry or a Procedure as the card
    reads it (stop 31), on Spark and DuckDB."""
    previous_history.check(export, spark)
    previous_history.check(export, duck)


def _check_length_versions(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """Tied panel versions whose CRL or MSD differ held back as the card holds them (stop 31)."""
    assert_same(export, spark)
    length_versions.check_reading(export, spark)


def _check_iup_not_seen(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """An intrauterine pregnancy recorded as not seen named as the card names it (stop 40)."""
    assert_same(export, spark)
    named = [m for got in spark for _, m in got["problems"] if m.endswith(IUP_NOT_SEEN_MESSAGE)]
    assert len(named) == len(iup_not_seen.NOT_SEEN)


def _check_hcg_interpretation(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A pregnancy test flagged negative with no value read as the card reads it (stop 40)."""
    assert_same(export, spark)


def _check_abated_bleeding(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """Bleeding abated with no clinicalStatus named as the card names it (stop 40)."""
    assert_same(export, spark)
    named = [m for got in spark for _, m in got["problems"] if m.endswith(BLEEDING_ABATED_MESSAGE)]
    assert len(named) == len(abated_bleeding.MAY_HAVE_ENDED)


def _check_active_abated_bleeding(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """Bleeding abated with a clinicalStatus `active` named as the card names it (stop 41)."""
    assert_same(export, spark)
    problems = [m for got in spark for _, m in got["problems"]]
    named = [m for m in problems if m.endswith(BLEEDING_ACTIVE_ABATED_MESSAGE)]
    assert len(named) == len(abated_bleeding.CONTRADICTED)


def _check_edd(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """An LMP an estimated date of delivery contradicts named, and not dating (stop 41)."""
    assert_same(export, spark)
    problems = [m for got in spark for _, m in got["problems"]]
    named = [m for m in problems if m.endswith(LMP_AGAINST_EDD_MESSAGE)]
    assert len(named) == len(edd_shapes.DATING_UNKNOWN) + len(edd_shapes.WITH_CRL)


def _check_instant_days(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """Instants in UTC, local time or another offset dated in London as the card dates them
    (stop 41): Spark's `from_utc_timestamp`, DuckDB's ICU and Python's zoneinfo agree."""
    assert_same(export, spark)
    instant_days.check(export, spark)


def _check_gestational_age(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """An LMP a recorded gestational age contradicts, or one beside a gestational age or an EDD
    that cannot be read, named and not dating (stop 41)."""
    assert_same(export, spark)
    problems = [m for got in spark for _, m in got["problems"]]

    def named(message: str) -> int:
        return sum(m.endswith(message) for m in problems)

    against = len(gestational_age.AGAINST) + len(gestational_age.WITH_CRL)
    assert named(LMP_AGAINST_GESTATIONAL_AGE_MESSAGE) == against
    assert named(LMP_UNCHECKED_MESSAGE) == len(gestational_age.UNREADABLE)
    not_a_date = len(gestational_age.EDD_NOT_A_DATE)  # stop 42: an EDD that is no date
    assert (
        named(GESTATIONAL_AGE_UNREADABLE_MESSAGE)
        == len(gestational_age.UNREADABLE) - 1 - not_a_date
    )
    assert named(EDD_NOT_A_DAY_MESSAGE) == 1
    assert named(EDD_UNREADABLE_MESSAGE) == not_a_date


def _check_heart_rate(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A fetal heart rate coded LOINC 55283-6 read (stop 41): 148/min a heartbeat, 0 none."""
    assert_same(export, spark)
    days = [day for got in spark for day in got["steps"]["scans"]]
    assert sum(bool(day["seen"]) for day in days) == 1
    assert sum(bool(day["absent"]) for day in days) == 1


def _check_status_unknown(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A scan result of status `unknown` read as a preliminary one (stop 42): an ectopic holds
    the offer back, an intrauterine finding is named as not confirming."""
    assert_same(export, spark)
    days = [day for got in spark for day in got["steps"]["scans"]]
    assert sum(day["location"] == "ectopic" for day in days) == len(status_unknown.NO_OFFER)
    problems = [m for got in spark for _, m in got["problems"]]
    assert sum(m.endswith(UNCONFIRMED_MESSAGE) for m in problems) == len(status_unknown.STILL_OFFER)


def _check_scan_routes(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A scan's route read from Observation.method as the card reads it (stop 42): Unknown
    where none is named or both are, the two named as a problem."""
    assert_same(export, spark)
    scan_routes.check_reading(spark)


def _check_report_routes(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A scan's route given by its report's code (stop 44): transvaginal for LOINC 24677-7,
    Unknown for a report of no route's code or one that disagrees with the finding's method
    (named), as the card reads it."""
    assert_same(export, spark)
    report_routes.check_reading(spark)


def _check_procedure_routes(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A scan's route given by its Procedure's code (stop 45): transvaginal for a completed
    Procedure coded CPT 76817 or LOINC 24677-7, Unknown for one planned, not done, of no route's
    code, or that disagrees with the finding's method (named), as the card reads it."""
    assert_same(export, spark)
    procedure_routes.check_reading(spark)


def _check_unconfirmed_condition(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A Condition whose verificationStatus is not confirmed (stop 42): a previous miscarriage or
    bleeding so recorded named (not counted, not current); the rest read as DuckDB reads them."""
    assert_same(export, spark)
    problems = [m for got in spark for _, m in got["problems"]]
    beside = 1  # "confirmed-beside-unconfirmed": the unconfirmed one is named there too
    assert sum(m.endswith(UNCONFIRMED_MISCARRIAGE_MESSAGE) for m in problems) == (
        len(unconfirmed_condition.UNKNOWN_PREVIOUS) + beside
    )
    assert sum(m.endswith(UNCONFIRMED_BLEEDING_MESSAGE) for m in problems) == len(
        unconfirmed_condition.UNKNOWN_BLEEDING
    )


def _check_gp_read(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """GP records coded in Read v2 or CTV3 only, or under the NHS HL7 v3 OIDs (stop 43): an
    inevitable miscarriage today diagnosed, an EDD that disagrees with the LMP named, an LMP and
    a scan-confirmed intrauterine pregnancy read, as DuckDB and the card read them."""
    assert_same(export, spark)
    gp_read.check_reading(spark)


def _check_latest_unknown(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A later bleeding record that does not know wins over an older answer (stop 43):
    whether she is bleeding is Unknown, that record named, as the card reads it."""
    assert_same(export, spark)
    check_latest_unknown(export, spark)


def _check_unverified_observation(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """Bleeding or a previous miscarriage on a preliminary or unknown-status Observation (stop
    43): Unknown, that Observation named, as the card reads it; "absent" or 0 still count."""
    assert_same(export, spark)
    check_unverified_observation(export, spark)


def _check_panel_members(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A panel Observation whose findings are `contained`, its hasMember referring to each as
    "#id" (stop 43): an ectopic member read, an intrauterine one with its CRL, an unconfirmed
    panel or member confirming nothing, as DuckDB and the card read them."""
    assert_same(export, spark)
    panel_members.check_reading(spark)


def _check_unverified_dating(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """An LMP on a preliminary or unknown-status Observation, or a newer LMP that is not a day
    (stop 44): the newest, it leaves the LMP unknown, named, as the card reads it."""
    assert_same(export, spark)
    check_unverified_dating(export, spark)


def _check_unverified_crl(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A CRL on a preliminary or unknown-status Observation (stop 44, HAZ-20 C20.30 open: it
    still dates her, `tests/records/test_unverified_crl.py`): read as the card reads it."""
    assert_same(export, spark)


def _check_report_crl(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A final CRL inside a partial / preliminary / unknown report or a preliminary panel (stop
    46, HAZ-20 C20.35): named, its day unverified, never dating her, as the card reads it; and
    (stop 47) bleeding, a previous miscarriage or an LMP so sent named as unverified."""
    assert_same(export, spark)
    report_crl.check_reading(export, spark)


def _check_earlier_crl(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A CRL on an earlier scan of this pregnancy (stop 44): that scan day and its CRL, as the
    card reads them (the audit's flat row carries them: `earlier-crl` in test_spark_agreement);
    a previous pregnancy's CRL is no scan of this one."""
    assert_same(export, spark)
    check_earlier_crl(export, spark)


def _check_locally_coded(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """A record coded in no value set read whose text names a loss or an ectopic (stop 44): the
    location not read from its day in this pregnancy, the record named, as the card reads it."""
    assert_same(export, spark)
    check_locally_coded(export, spark)


def _check_scans(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """Every scan of the audit's scans scenario read as the card reads it; scan images with no
    report (stop 51, HAZ-20 C20.50) named by their study, as on DuckDB."""
    assert_same(export, spark)
    space = _space("real-scans")
    at = [e["id"] for e in export["Encounter"]]
    for shape, message in IMAGES_PROBLEMS.items():
        ref = f"ImagingStudy/{space}{shape}-us-study"
        assert (ref, message) in spark[at.index(f"{space}enc-{shape}")]["problems"], shape


def _check_medication_shapes(export: Export, spark: list[dict], duck: list[dict]) -> None:
    """Every prescription shape (Gestone and Cyclogest by name, stop 51; a bare dm+d product
    code) read as the card reads it, its problems included."""
    assert_same(export, spark)


ReadCheck = Callable[[Export, list[dict], list[dict]], None]
# name -> (its export, given a folder to write into; its check)
READ: dict[str, tuple[Callable[[Path], Export], ReadCheck]] = {
    "malformed": (lambda _: malformed_export(), _check_malformed),
    "not-pregnant": (lambda _: not_pregnant.spark_export(), _check_not_pregnant),
    "previous-ectopic": (lambda _: previous_ectopic.export(), _check_previous_ectopic),
    "previous-history": (lambda _: previous_history.export(), _check_previous_history),
    "length-versions": (lambda _: length_versions.export(), _check_length_versions),
    "iup-not-seen": (lambda _: iup_not_seen.export(), _check_iup_not_seen),
    # stop 40: a pregnancy test flagged negative with no value; bleeding abated with no status
    "hcg-interpretation": (lambda _: hcg_interpretation.export(), _check_hcg_interpretation),
    "abated-bleeding": (lambda _: abated_bleeding.export(), _check_abated_bleeding),
    # stop 41: bleeding abated with an `active` clinicalStatus
    "active-abated-bleeding": (
        lambda _: abated_bleeding.export(abated_bleeding.CONTRADICTED),
        _check_active_abated_bleeding,
    ),
    # stop 41: an estimated date of delivery against the LMP
    "edd": (lambda _: edd_shapes.export(), _check_edd),
    # stop 41: an instant's day is its day in the configured zone
    "instant-days": (lambda _: instant_days.export(), _check_instant_days),
    # stop 41: a recorded gestational age (or an EDD of a month only) against the LMP
    "gestational-age": (lambda _: gestational_age.export(), _check_gestational_age),
    "heart-rate-55283-6": (lambda _: heart_rate.export(), _check_heart_rate),
    # stop 42: a scan result whose status is `unknown` (an EDD that is no date: gestational-age)
    "status-unknown": (lambda _: status_unknown.export(), _check_status_unknown),
    # stop 42: the scan's route (NG126 1.4.8/1.4.11: 14 days of a transabdominal scan)
    "scan-route": (lambda _: scan_routes.export(), _check_scan_routes),
    # stop 42: a Condition whose verificationStatus is unconfirmed, provisional or differential
    "unconfirmed-condition": (
        lambda _: unconfirmed_condition.export(),
        _check_unconfirmed_condition,
    ),
    # stop 43: GP records coded in Read v2 or CTV3 only, or under the NHS HL7 v3 OIDs
    "gp-read": (lambda _: gp_read.export(), _check_gp_read),
    # stop 43: a later bleeding record that does not know, over an older answer
    "latest-unknown": (lambda _: latest_unknown.export(), _check_latest_unknown),
    # stop 43: bleeding or a previous miscarriage on a preliminary or unknown-status Observation
    "unverified-observation": (
        lambda _: unverified_observation.export(),
        _check_unverified_observation,
    ),
    # stop 43: a panel Observation's contained members (hasMember "#id")
    "panel-members": (lambda _: panel_members.export(), _check_panel_members),
    # stop 44: an LMP not verified, or a newer one that is not a day, over an older full LMP
    "unverified-dating": (lambda _: unverified_dating.export(), _check_unverified_dating),
    # ... and its CRL shapes (their own export: the LMP scenario's check knows its shapes only)
    "unverified-crl": (lambda _: unverified_dating.crl_export(), _check_unverified_crl),
    # stop 46: ... and a final CRL inside an unfinished report or panel (stop 47: and its other
    # findings, bleeding, a previous miscarriage, an LMP, in the same export)
    "report-crl": (lambda _: report_crl.export(), _check_report_crl),
    # stop 44: a CRL on an earlier scan of this pregnancy dates her (the card's and the audit's)
    "earlier-crl": (lambda _: earlier_crl.export(), _check_earlier_crl),
    # stop 44: a loss or an ectopic coded locally (EMIS, Egton, a hospital's system, text only)
    "locally-coded": (lambda _: locally_coded.export(), _check_locally_coded),
    # stop 44: the scan's route given by its report's code (DiagnosticReport.code)
    "report-route": (lambda _: report_routes.export(), _check_report_routes),
    # stop 45: the scan's route given by its Procedure's code (Procedure.code)
    "procedure-route": (lambda _: procedure_routes.export(), _check_procedure_routes),
    # stop 52: the audited module's scans (with the scan images of stop 51) and medicine shapes
    # (Gestone, Cyclogest packs, stop 51), read here for their steps and problems
    "real-scans": (lambda _: real_scans._export(SCANS), _check_scans),
    "medication-shapes": (lambda _: medication_shapes(), _check_medication_shapes),
}
SYNTHETIC = "synthetic"  # 60 synthetic women: every step and problem, row for row


@dataclass(frozen=True)
class Read:
    exports: dict[str, Export]  # each scenario's export, namespaced as read
    fetched: tuple[Any, Any]  # the compiled reading's rows and problems (Spark, DuckDB)


@pytest.fixture(scope="module")
def read(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Read:
    root = tmp_path_factory.mktemp("reading")
    write_fhir(generate_chunks(60, seed=5), root / SYNTHETIC)
    exports = {SYNTHETIC: {Path(n).stem: r for n, r in _read_back(root / SYNTHETIC).items()}}
    exports |= {name: export(root) for name, (export, _) in READ.items()}
    spaced = {
        name: {kind: namespaced(r, _space(name)) for kind, r in export.items()}
        for name, export in exports.items()
    }
    whole: Export = {}
    for export in spaced.values():
        for kind, resources in export.items():
            whole.setdefault(kind, []).extend(resources)
    folder = write_export(whole, root / "in")
    merges = export_merges(whole)
    # no code generated for its 133 statements, one shuffle partition (`AGREEMENT`)
    with session_settings(spark, AGREEMENT):
        on_spark = fetched(compiled_reading(ibis.pyspark.connect(spark), folder, "sp", merges))
    on_duckdb = fetched(compiled_reading(ibis.duckdb.connect(), folder, "dk", merges))
    return Read(spaced, (on_spark, on_duckdb))


@pytest.mark.parametrize("scenario", list(READ))
def test_spark_reads_each_scenario_as_duckdb_does(scenario: str, read: Read) -> None:
    export = read.exports[scenario]
    merges = export_merges(export)
    spark, duck = (readings_of(got, export, merges) for got in read.fetched)
    READ[scenario][1](export, spark, duck)


def test_spark_gives_the_episodes_duckdb_gives(read: Read) -> None:
    """Every encounter of the export, row for row: every step and every problem."""
    spark, duck = (episode_rows(*got) for got in read.fetched)
    assert len(spark) == len(duck) > 60
    for a, b in zip(spark, duck, strict=True):
        assert a == b, a["encounter"]


def test_the_reading_runs_interpreted_and_the_settings_are_given_back(spark: Any) -> None:
    """`session_settings(spark, INTERPRETED)`, as the `read` fixture runs the Spark reading:
    inside the block a plan has no generated code stage; after it each setting is what it was,
    a key never set unset again, a value set before given back."""

    def top_stage() -> str:
        plan = spark.range(3).selectExpr("id + 1 AS n")._jdf.queryExecution().executedPlan()
        return str(plan.getClass().getSimpleName())

    assert all(spark.conf.get(key, None) is None for key in INTERPRETED)
    assert top_stage() == "WholeStageCodegenExec"
    with session_settings(spark, INTERPRETED):
        assert top_stage() == "ProjectExec"
        assert {key: spark.conf.get(key) for key in INTERPRETED} == INTERPRETED
    assert all(spark.conf.get(key, None) is None for key in INTERPRETED)
    assert top_stage() == "WholeStageCodegenExec"
    wholestage = "spark.sql.codegen.wholeStage"
    with session_settings(spark, {wholestage: "true"}):
        with session_settings(spark, INTERPRETED):
            assert spark.conf.get(wholestage) == "false"
        assert spark.conf.get(wholestage) == "true"
    assert spark.conf.get(wholestage, None) is None
    # the agreement's settings over a value the session has (the audit's one partition a core)
    shuffle = "spark.sql.shuffle.partitions"
    before = spark.conf.get(shuffle)
    with session_settings(spark, AGREEMENT):
        assert spark.conf.get(shuffle) == "1"
    assert spark.conf.get(shuffle) == before != "1"
