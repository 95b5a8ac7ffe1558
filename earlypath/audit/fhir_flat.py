"""What the audit reads of a FHIR R4 bulk export (a folder of NDJSON) for the flat cohort form;
`earlypath.audit.fhir_read` reads it (DuckDB: `flatten_fhir_duckdb`; Spark: `read_fhir_export`).

One row per Encounter that is an episode, numbered by its position in the Encounter files (in the
order `earlypath.audit.fhir_files` gives them); ``assessed_on`` is the day of
``Encounter.period.start``. Who is judged: an encounter is an episode only when the record shows a
current pregnancy as of its day, and never when the patient is male (`earlypath.fhir.pregnancy`,
the same definition as the CDS patient-view's); the others are counted by reason in
``FhirReading.excluded``, so that rows_in = evaluated + excluded + rejected.

The facts of each row are read by the one definition of record reading
(`earlypath.records.definition.READING`), the very definition the CDS Hooks service runs one
record at a time, here compiled by `earlypath.records.ibis_compile` over the whole export (each
resource type's files read once) and summarised as `earlypath.audit.flat.episode_to_flat` does:
the latest scan day fills the one scan of the flat row, allergies are joined with "; ".

Audit-only, written as steps of the same IR on top of the definition (`AUDIT_STEPS`): the latest
scan's cells, and the care given, which stays linked to the encounter: ``progesterone_prescribed``
is a progesterone MedicationRequest (not "do not perform", not cancelled or entered-in-error) whose
``encounter.reference`` is this Encounter (relative, absolute or urn:uuid), ``prescribed_on`` the
earliest ``authoredOn`` of those requests. A bulk export of MedicationRequest lists every
prescription, so when the export has MedicationRequest NDJSON an encounter without one was not
prescribed (false); when it has none at all, what was prescribed is unknown (NULL), and so it is
when a request made there names a medicine that cannot be identified (it may be progesterone:
care unknown, never "not offered"). The
definition leaves this encounter's own requests out of ``on_progesterone`` (they are the care
given here, made after the decision the audit judges).

Audit-only, read by row specs of the same IR and ibis expressions shared by DuckDB and Spark
(`earlypath.audit.fhir_read`): the encounter's day, patient, site (Encounter.serviceProvider) and
own type (a prenatal visit shows a pregnancy), and from the Patient (the first of that id):
gender, age band, ethnicity (UK Core extension) and deprivation_quintile (extension
``urn:earlypath:imd-quintile``).

The flat form holds one scan (the latest): earlier scans are lost; the scan route has no code and
stays Unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from earlypath.audit.fhir_files import ExportFiles
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import reference_pattern
from earlypath.records.ir import Agg, Col, Ctx, EpisodeSpec, OneOf
from earlypath.rules.ir import And, Cmp, Const, Expr, If, IsNull, IsTrue, Not, Or

__all__ = [
    "AUDIT_READING",
    "ETHNICITY_EXTENSION",
    "IMD_EXTENSION",
    "RESOURCES",
    "FhirReading",
    "reference_pattern",
]

IMD_EXTENSION = "urn:earlypath:imd-quintile"
ETHNICITY_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
# The types the audit reads: the Encounter (the audit's own) and every type the one reading
# definition reads, taken from it, so the audit can never skip a type the service reads (it
# skipped MedicationStatement, her GP record's "she takes Utrogestan": an offer).
RESOURCES = tuple(dict.fromkeys(("Patient", "Encounter", *(r.resource for r in READING.rows))))
# Care given: requests in these statuses were never a prescription.
NOT_PRESCRIBED_STATUS = ("entered-in-error", "cancelled")


# --- the reading: the one definition, and the audit's own steps -----------------------------------


def _latest_scan(column: str) -> Agg:
    """A cell of the latest scan day (`episode_to_flat` keeps the latest scan)."""
    return Agg("latest", "scans", Const(True), Col(column), (Col("day"),))


# A request's status that leaves it a prescription (not cancelled or in error).
_STATUS_PRESCRIBED = IsTrue(Not(OneOf(Col("status"), NOT_PRESCRIBED_STATUS)))


def _made_here(medicine: Expr, status: Expr = _STATUS_PRESCRIBED) -> Expr:
    """A request made at this encounter (a prescription: not "do not perform", not cancelled or
    in error, or as ``status`` says) whose medicine is as ``medicine`` says."""
    return And(
        (
            medicine,
            Not(IsTrue(Col("do_not_perform"))),
            IsTrue(Cmp("==", Col("encounter"), Ctx("encounter"))),
            status,
        )
    )


# A progesterone request made at this encounter: the care given here.
_PRESCRIBED_HERE = _made_here(
    And((IsTrue(Col("progesterone")), Not(IsTrue(Col("dnp_unreadable")))))
)
# One for a medicine that cannot be identified (it may be progesterone), for progesterone with a
# doNotPerform that is neither true nor false, or for progesterone whose status is missing or not
# text (it may have been cancelled): whether progesterone was prescribed here is Unknown (care
# unknown), never "not given" (an eligible woman "not offered"), nor "given".
_MAYBE_PRESCRIBED_HERE = Or(
    (
        _made_here(
            Or(
                (
                    IsNull(Col("progesterone")),
                    And((IsTrue(Col("progesterone")), IsTrue(Col("dnp_unreadable")))),
                )
            )
        ),
        _made_here(IsTrue(Col("progesterone")), status=IsNull(Col("status"))),
    )
)
AUDIT_STEPS = (
    ("scan_date", Agg("max", "scans", Const(True), Col("day"))),
    ("scan_location", _latest_scan("location")),
    ("scan_crl_mm", _latest_scan("crl_mm")),
    ("scan_msd_mm", _latest_scan("msd_mm")),
    ("scan_fetal_pole", _latest_scan("fetal_pole")),
    ("scan_fetal_heartbeat", _latest_scan("fetal_heartbeat")),
    ("prescribed", Agg("any", "requests", _PRESCRIBED_HERE, Const(True))),
    ("prescribed_on", Agg("min", "requests", _PRESCRIBED_HERE, Col("authored"))),
    # True when nothing prescribed here is known to be progesterone and a request made here may
    # be: the flat cell is then empty (Unknown), `fhir_read.flat_table`
    (
        "prescribed_unknown",
        If(
            IsTrue(Ctx("prescribed")),
            Const(False),
            Agg("any", "requests", _MAYBE_PRESCRIBED_HERE, Const(True)),
        ),
    ),
)
# The problems are the service's to show; the audit counts encounters, not resources (so the
# rows that only report malformed elements are not read either).
AUDIT_READING = EpisodeSpec(
    tuple(r for r in READING.rows if r.table != "malformed"), READING.steps + AUDIT_STEPS, ()
)


@dataclass
class FhirReading:
    """What flattening an export found besides the rows: its files, and the encounters that
    are not episodes, counted by reason (`earlypath.fhir.pregnancy`)."""

    export: ExportFiles
    excluded: dict[str, int] = field(default_factory=dict)
    encounters: int = 0  # every Encounter read (episodes, excluded and to be rejected)
    # episodes whose Encounter.subject names no Patient in the export: judged with her sex and
    # age unknown (never defaulted), so the report says how many
    without_patient: int = 0
