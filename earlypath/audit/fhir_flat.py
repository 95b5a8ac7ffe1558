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
is true when progesterone was prescribed, dispensed or administered at this Encounter (the
reference to it relative, absolute or urn:uuid): a progesterone MedicationRequest whose
``encounter`` it is, an order (intent order, original-order, reflex-order, filler-order or
instance-order: not a proposal, plan or option) in a status that was prescribed (active, on-hold,
completed, stopped), not "do not perform"; or a MedicationDispense or MedicationAdministration
whose ``context`` it is, in a status that shows the medicine supplied or given
(`earlypath.records.definition.CARE_EVENT_ROWS`; reading.json ``care_given_*``, FHIR R4).
``prescribed_on`` is the earliest ``authoredOn`` of those requests, else the earliest day of
those dispenses and doses. A bulk export of MedicationRequest lists every prescription, so when
the export has MedicationRequest NDJSON an encounter without any of these was not prescribed
(false); when it has none at all (an export filtered by ``_type``), what was prescribed is
unknown (NULL) unless a dispense or dose shows it, and the summary and the report say so
(``without_medication_requests``). It is unknown too when a record made there may be progesterone
but cannot say it was given: a medicine that cannot be identified, a proposal, a plan, a draft, a
status unknown or missing, a dispense cancelled or declined, a dose not done (care unknown, never
"not offered", nor "offered"). A cancelled request, or any record entered in error, says
nothing. The definition leaves this encounter's own requests out of ``on_progesterone`` (they are
the care given here, made after the decision the audit judges).

Audit-only, read by row specs of the same IR and ibis expressions shared by DuckDB and Spark
(`earlypath.audit.fhir_read`): the encounter's day, patient, site (Encounter.serviceProvider) and
own type (a prenatal visit shows a pregnancy), and from the Patient (the first of that id):
gender, age band, ethnicity (UK Core extension) and deprivation_quintile (extension
``urn:earlypath:imd-quintile``).

The flat form holds one scan (the latest) and, of the earlier scans, the dating CRL
(``earlier_crl_mm``, ``earlier_crl_date``); the rest of the earlier scans is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from earlypath.audit.fhir_files import ExportFiles
from earlypath.fhir.codes import status_list
from earlypath.records.definition import CARE_EVENT_ROWS, READING
from earlypath.records.ibis_compile import reference_pattern
from earlypath.records.ir import Agg, Col, Ctx, EpisodeSpec, OneOf
from earlypath.rules.ir import And, Cmp, Coalesce, Const, If, IsNull, IsTrue, Not, Or

__all__ = [
    "AUDIT_READING",
    "ETHNICITY_EXTENSION",
    "IMD_EXTENSION",
    "MAY_BE_CARE_GIVEN",
    "PRESCRIPTIONS",
    "RESOURCES",
    "FhirReading",
    "reference_pattern",
]

IMD_EXTENSION = "urn:earlypath:imd-quintile"
ETHNICITY_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
# The types the audit reads: the Encounter (the audit's own) and every type the one reading
# definition reads, taken from it, so the audit can never skip a type the service reads (it
# skipped MedicationStatement, her GP record's "she takes Utrogestan": an offer).
# The care given is also read from MedicationDispense and MedicationAdministration
# (`CARE_EVENT_ROWS`: the audit's only).
RESOURCES = tuple(
    dict.fromkeys(
        (
            "Patient",
            "Encounter",
            *(r.resource for r in READING.rows),
            *(r.resource for r in CARE_EVENT_ROWS),
        )
    )
)
# The type whose files list every prescription: without one, "not prescribed" cannot be known.
PRESCRIPTIONS = "MedicationRequest"
# Care given: requests in these statuses were never a prescription.
NOT_PRESCRIBED_STATUS = ("entered-in-error", "cancelled")
# A request that is a prescription: its intent and status (reading.json, FHIR R4).
ORDER_INTENTS = tuple(sorted(status_list("care_given_request_intent")))
PRESCRIBED_STATUS = tuple(sorted(status_list("care_given_request_status")))


# --- the reading: the one definition, and the audit's own steps -----------------------------------


# the scans' columns the flat row holds of the latest scan day (`episode_to_flat` keeps the
# latest scan), each as the step ``scan_<column>``; ``crl_unverified`` True: the latest day's
# CRL is not known to be verified (viability only, never dating)
_LATEST_SCAN = (
    "location",
    "route",
    "crl_mm",
    "crl_unverified",
    "msd_mm",
    "fetal_pole",
    "fetal_heartbeat",
)


# A scan day before the latest with a CRL above 0 (stop 44, issue 12: the flat row held only the
# latest scan, so a CRL of an earlier scan, which dates her on the card, was lost).
# A CRL not known to be verified does not date her (stop 45): such a day is left out.
_EARLIER_CRL_DAY = And(
    (
        IsTrue(Cmp(">", Col("crl_mm"), Const(0))),
        Not(IsTrue(Col("crl_unverified"))),
        IsTrue(Cmp("<", Col("day"), Ctx("scan_date"))),
    )
)

# A request made at this encounter (relative, absolute or urn:uuid reference to it).
_HERE = IsTrue(Cmp("==", Col("encounter"), Ctx("encounter")))
_NOT_OTHER_MEDICINE = Not(IsTrue(Cmp("==", Col("progesterone"), Const(False))))

# A progesterone request made at this encounter that is a prescription: an order (FHIR R4
# request-intent: not a proposal, plan or option), in a status that was prescribed (active,
# on-hold, completed, stopped: not a draft, not unknown), not "do not perform": the care given here.
_PRESCRIBED_HERE = And(
    (
        IsTrue(Col("progesterone")),
        Not(IsTrue(Col("do_not_perform"))),
        Not(IsTrue(Col("dnp_unreadable"))),
        _HERE,
        IsTrue(OneOf(Col("intent"), ORDER_INTENTS)),
        IsTrue(OneOf(Col("status"), PRESCRIBED_STATUS)),
    )
)
# Any other request made here that may be progesterone, not "do not perform", not cancelled or in
# error: its medicine cannot be identified, or it is a proposal, a plan, a draft, of status unknown
# or with none (or none that is text), or its doNotPerform is neither true nor false. Whether
# progesterone was prescribed here is then Unknown (care unknown), never "not given" (an eligible
# woman "not offered"), nor "given"; one prescribed here decides (`prescribed_unknown`).
_MAY_BE_PRESCRIBED = (
    _NOT_OTHER_MEDICINE,
    Not(IsTrue(Col("do_not_perform"))),
    Not(IsTrue(OneOf(Col("status"), NOT_PRESCRIBED_STATUS))),
)
_MAYBE_PRESCRIBED_HERE = And((*_MAY_BE_PRESCRIBED[:2], _HERE, *_MAY_BE_PRESCRIBED[2:]))
# Progesterone dispensed or administered here (`CARE_EVENT_ROWS`: ``given`` by its status): care
# given. One that may be progesterone, or whose status does not say it was given (cancelled,
# declined, not done, unknown), and not entered in error: care unknown.
_GIVEN_HERE = And((IsTrue(Col("given")), IsTrue(Col("progesterone")), _HERE))
_MAY_BE_GIVEN = (Not(IsTrue(Cmp("==", Col("given"), Const(False)))), _NOT_OTHER_MEDICINE)
_MAYBE_GIVEN_HERE = And((*_MAY_BE_GIVEN, _HERE))
# A request, dispense or administration that would be care given or care unknown at the
# encounter it names were it tied to that encounter's patient (the two tests above, without
# "here"): a care record that may be progesterone given, by table. One tied to nobody (its subject
# names no Patient of the export) is not read, so its encounter may be counted "not offered"
# (`earlypath.audit.untied_care`). One that names no encounter is care at none.
_NAMES_AN_ENCOUNTER = Not(IsNull(Col("encounter")))
MAY_BE_CARE_GIVEN = {
    "requests": And((*_MAY_BE_PRESCRIBED, _NAMES_AN_ENCOUNTER)),
    "care_events": And((*_MAY_BE_GIVEN, _NAMES_AN_ENCOUNTER)),
}
AUDIT_STEPS = (
    ("scan_date", Agg("max", "scans", Const(True), Col("day"))),
    *(
        (f"scan_{column}", Agg("latest", "scans", Const(True), Col(column), (Col("day"),)))
        for column in _LATEST_SCAN
    ),
    # the dating CRL of an earlier scan day of this pregnancy: the earliest day with a CRL above
    # 0 (`flat.dating_scan`, as the card's `episode_facts` dates her), before the latest day
    ("earlier_crl_date", Agg("min", "scans", _EARLIER_CRL_DAY, Col("day"))),
    (
        "earlier_crl_mm",
        Agg(
            "max",
            "scans",
            IsTrue(Cmp("==", Col("day"), Ctx("earlier_crl_date"))),
            Col("crl_mm"),
        ),
    ),
    (
        "prescribed",
        Or(
            (
                Agg("any", "requests", _PRESCRIBED_HERE, Const(True)),
                Agg("any", "care_events", _GIVEN_HERE, Const(True)),
            )
        ),
    ),
    # the day of the prescription, else of the dispense or dose
    (
        "prescribed_on",
        Coalesce(
            (
                Agg("min", "requests", _PRESCRIBED_HERE, Col("authored")),
                Agg("min", "care_events", _GIVEN_HERE, Col("day")),
            )
        ),
    ),
    # True when nothing given here is known to be progesterone and a record made here may be: the
    # flat cell is then empty (Unknown), `fhir_read.flat_table`
    (
        "prescribed_unknown",
        If(
            IsTrue(Ctx("prescribed")),
            Const(False),
            Or(
                (
                    Agg("any", "requests", _MAYBE_PRESCRIBED_HERE, Const(True)),
                    Agg("any", "care_events", _MAYBE_GIVEN_HERE, Const(True)),
                )
            ),
        ),
    ),
)
# The problems are the service's to show; the audit counts encounters, not resources (so the
# rows that only report malformed elements are not read either).
AUDIT_READING = EpisodeSpec(
    (*(r for r in READING.rows if r.table != "malformed"), *CARE_EVENT_ROWS),
    READING.steps + AUDIT_STEPS,
    (),
    READING.own_record,
    # the Observations' chosen versions hold the repeated pairs only, as the card's (stop 46:
    # without it a panel's members kept every Observation's versions ranked)
    pairs_only=READING.pairs_only,
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
    # the export has no MedicationRequest file: the care given is unknown unless a dispense or a
    # dose shows it (never "not offered"), so the summary and the report say so
    without_prescriptions: bool = False
    # merged patient records (Patient.link, `earlypath.records.merges`): counts, never ids
    merges: dict[str, Any] = field(default_factory=dict)
    # resources naming their patient by an identifier only (`earlypath.records.identifiers`):
    # counts, never an identifier; empty when the export has none
    identifier_ties: dict[str, Any] = field(default_factory=dict)
    # care records that may be progesterone given, tied to no Patient of the export
    # (`earlypath.audit.untied_care`): counts, by site; empty when there is none
    untied_care: dict[str, Any] = field(default_factory=dict)
