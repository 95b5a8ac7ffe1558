"""Flatten a FHIR R4 bulk export (a folder of NDJSON) into the flat cohort form.

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
prescribed (false); when it has none at all, what was prescribed is unknown (NULL). The
definition leaves this encounter's own requests out of ``on_progesterone`` (they are the care
given here, made after the decision the audit judges).

Audit-only and read here in SQL (the service has no such fact; `FIELDS`): the encounter's day,
patient, site (Encounter.serviceProvider) and own type (a prenatal visit shows a pregnancy), and
from the Patient (the first of that id): gender, age band, ethnicity (UK Core extension) and
deprivation_quintile (extension ``urn:earlypath:imd-quintile``).

The flat form holds one scan (the latest): earlier scans are lost; the scan route has no code and
stays Unknown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from earlypath.audit.fhir_files import ExportFiles, discover_export
from earlypath.fhir.codes import CodeSet, code_set, word_pattern
from earlypath.fhir.pregnancy import EXCLUDED_MALE, EXCLUDED_NOT_PREGNANT
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import load_resources, reference_pattern, run_records
from earlypath.records.ir import Agg, Col, Ctx, EpisodeSpec, OneOf
from earlypath.rules.ir import And, Cmp, Const, IsTrue, Not

__all__ = [
    "AUDIT_READING",
    "ETHNICITY_EXTENSION",
    "IMD_EXTENSION",
    "RESOURCES",
    "FhirReading",
    "flatten_fhir_duckdb",
    "reference_pattern",
]

IMD_EXTENSION = "urn:earlypath:imd-quintile"
ETHNICITY_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
RESOURCES = (
    "Patient",
    "Encounter",
    "Condition",
    "Observation",
    "MedicationRequest",
    "Medication",
    "AllergyIntolerance",
)
# Care given: requests in these statuses were never a prescription.
NOT_PRESCRIBED_STATUS = ("entered-in-error", "cancelled")


# --- the reading: the one definition, and the audit's own steps -----------------------------------


def _latest_scan(column: str) -> Agg:
    """A cell of the latest scan day (`episode_to_flat` keeps the latest scan)."""
    return Agg("latest", "scans", Const(True), Col(column), (Col("day"),))


# A progesterone request made at this encounter: the care given here.
_PRESCRIBED_HERE = And(
    (
        IsTrue(Col("progesterone")),
        Not(IsTrue(Col("do_not_perform"))),
        IsTrue(Cmp("==", Col("encounter"), Ctx("encounter"))),
        IsTrue(Not(OneOf(Col("status"), NOT_PRESCRIBED_STATUS))),
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
)
# The problems are the service's to show; the audit counts encounters, not resources (so the
# rows that only report malformed elements are not read either).
AUDIT_READING = EpisodeSpec(
    tuple(r for r in READING.rows if r.table != "malformed"), READING.steps + AUDIT_STEPS, ()
)


# --- what is read of the Patient and the Encounter here ----------------------------------------

_REFERENCE = {"reference": "VARCHAR", "display": "VARCHAR"}
_CONCEPT = {
    "coding": [{"system": "VARCHAR", "code": "VARCHAR", "display": "VARCHAR"}],
    "text": "VARCHAR",
}
FIELDS: dict[str, dict[str, Any]] = {
    "Patient": {
        "id": "VARCHAR",
        "gender": "VARCHAR",
        "birthDate": "VARCHAR",
        "extension": [
            {"url": "VARCHAR", "valueInteger": "VARCHAR", "valueCodeableConcept": _CONCEPT}
        ],
    },
    "Encounter": {
        "id": "VARCHAR",
        "subject": _REFERENCE,
        "period": {"start": "VARCHAR"},
        "serviceProvider": _REFERENCE,
        "type": [_CONCEPT],
    },
}


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values: Any) -> str:
    return "[" + ", ".join(_text(v) for v in values) + "]"


def _day(value: str) -> str:
    """A FHIR date/dateTime/instant (text) as a DATE; partial dates (year, year-month) are NULL."""
    return (
        f"CASE WHEN regexp_matches({value}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
        f"THEN TRY_CAST(left({value}, 10) AS DATE) END"
    )


def _keys(concept: str) -> str:
    """A CodeableConcept's codings as 'system|code' strings, in order."""
    return (
        f"list_transform(coalesce({concept}.coding, []), "
        "lambda c: coalesce(c.system, '') || '|' || coalesce(c.code, ''))"
    )


def _matches(concept: str, codes: CodeSet) -> str:
    """`CodeSet.matches` on a CodeableConcept: a listed code, or a word in its text or display."""
    keys = sorted(f"{system}|{code}" for system, code in codes.codes)
    test = f"list_has_any({_keys(concept)}, {_list(keys)})"
    if codes.words:
        displays = (
            f"list_transform(coalesce({concept}.coding, []), lambda c: coalesce(c.display, ''))"
        )
        text = f"lower(coalesce({concept}.text, '') || ' ' || array_to_string({displays}, ' '))"
        words = " OR ".join(
            f"regexp_matches({text}, {_text(word_pattern(w))})" for w in codes.words
        )
        test = f"({test} OR {words})"
    return f"coalesce({test}, false)"


def _source(files: list[Path]) -> str:
    if not files:
        return "(SELECT NULL::JSON AS json WHERE false)"
    paths = _list(str(p) for p in files)
    # .ndjson.gz is read through DuckDB's compression detection (by the file name)
    return f"read_json_objects({paths}, format = 'newline_delimited')"


def _load(con: Any, export: ExportFiles, name: str) -> None:
    """The Patient and Encounter files into view ``{name}_<kind>`` (``fhir``, see `FIELDS`;
    n = position; every line kept and numbered)."""
    for kind in FIELDS:
        table = f"{name}_{kind.lower()}"
        spec = _text(json.dumps({"resourceType": "VARCHAR", **FIELDS[kind]}))
        con.raw_sql(
            f"CREATE OR REPLACE TABLE {table}_t AS "
            f"SELECT json_transform(json, {spec}) AS fhir FROM {_source(export.of(kind))}"
        )
        # A table keeps the files' order (DuckDB preserves insertion order): rowid numbers lines.
        con.raw_sql(f"CREATE OR REPLACE VIEW {table} AS SELECT fhir, rowid + 1 AS n FROM {table}_t")


def _reference_id(reference: str, kind: str) -> str:
    """The id a reference points to within the export (as `RefId` reads it), or NULL."""
    return (
        f"CASE WHEN starts_with({reference}, 'urn:uuid:') "
        f"THEN nullif(substr({reference}, 10), '') "
        f"ELSE nullif(regexp_extract({reference}, {_text(reference_pattern(kind))}, 1), '') END"
    )


def _encounters_sql(name: str) -> str:
    return f"""
CREATE OR REPLACE TABLE {name}_enc AS
SELECT n AS row_number,
       fhir.id AS episode_id,
       {_reference_id("fhir.subject.reference", "Patient")} AS patient,
       left(fhir.period.start, 10) AS assessed_text,
       {_day("fhir.period.start")} AS assessed_on,
       regexp_replace(fhir.serviceProvider.reference, '^Organization/', '') AS site,
       coalesce(list_bool_or(list_transform(coalesce(fhir.type, []), lambda k:
         {_matches("k", code_set("pregnancy_encounter_type"))})), false) AS pregnancy_visit
FROM {name}_encounter"""


def _patients_sql(name: str) -> str:
    def extension(url: str) -> str:
        return f"list_filter(coalesce(fhir.extension, []), lambda x: x.url = {_text(url)})[1]"

    return f"""
CREATE OR REPLACE TABLE {name}_patients AS
SELECT fhir.id AS patient,
       fhir.gender AS gender,
       TRY_CAST(fhir.birthDate AS DATE) AS birth,
       {extension(ETHNICITY_EXTENSION)} AS eth,
       {extension(IMD_EXTENSION)} AS imd
FROM {name}_patient
QUALIFY row_number() OVER (PARTITION BY fhir.id ORDER BY n) = 1"""


def _age_band(birth: str, day: str) -> str:
    years = f"date_diff('year', {birth}, {day})"
    bands = " ".join(
        f"WHEN {years} < {limit} THEN '{band}'"
        for limit, band in ((20, "<20"), (25, "20-24"), (30, "25-29"), (35, "30-34"), (40, "35-39"))
    )
    return (
        f"CASE WHEN {birth} IS NULL OR {day} IS NULL THEN NULL ELSE CASE {bands} ELSE '40+' END END"
    )


def _flat_sql(name: str, episodes: str, has_requests: bool) -> str:
    """The flat row of each encounter (text cells, as a CSV gives them; NULL = Unknown), and why
    it is not an episode (`pregnancy.exclusion`): a man's, or one with no evidence of a current
    pregnancy as of its day. An encounter with no date (or no patient) cannot be placed: it
    stays in, to be rejected or judged as it is."""
    prescribed = "coalesce(r.prescribed, false)" if has_requests else "NULL::BOOLEAN"
    assessed = "TRY_CAST(e.assessed_text AS DATE)"
    return f"""
CREATE OR REPLACE TABLE {name}_t AS
SELECT e.row_number, e.episode_id, e.assessed_text AS assessed_on,
  CAST(r.previous_miscarriages AS VARCHAR) AS previous_miscarriages,
  CAST(r.vaginal_bleeding AS VARCHAR) AS vaginal_bleeding,
  CAST(r.lmp AS VARCHAR) AS lmp,
  CAST(r.scan_date AS VARCHAR) AS scan_date,
  NULL::VARCHAR AS scan_route,
  r.scan_location,
  CASE WHEN r.scan_fetal_pole THEN 'true' END AS fetal_pole,
  CAST(r.scan_fetal_heartbeat AS VARCHAR) AS fetal_heartbeat,
  CAST(r.scan_crl_mm AS VARCHAR) AS crl_mm,
  CAST(r.scan_msd_mm AS VARCHAR) AS msd_mm,
  CAST(coalesce(r.miscarriage_diagnosed, false) AS VARCHAR) AS miscarriage_diagnosed,
  CAST(coalesce(r.on_progesterone, false) AS VARCHAR) AS on_progesterone,
  CASE WHEN len(r.allergies) > 0 THEN array_to_string(r.allergies, '; ') END AS allergies,
  CAST({prescribed} AS VARCHAR) AS progesterone_prescribed,
  CAST(r.prescribed_on AS VARCHAR) AS prescribed_on,
  e.site,
  {_age_band("pt.birth", assessed)} AS age_band,
  coalesce(pt.eth.valueCodeableConcept.coding[1].display, pt.eth.valueCodeableConcept.text)
    AS ethnicity,
  TRY_CAST(pt.imd.valueInteger AS BIGINT) AS deprivation_quintile,
  CASE WHEN pt.gender = 'male' THEN {_text(EXCLUDED_MALE)}
       WHEN e.assessed_on IS NULL OR e.patient IS NULL THEN NULL
       WHEN e.pregnancy_visit OR r.lmp IS NOT NULL OR len(r.pregnancy_signs) > 0 THEN NULL
       ELSE {_text(EXCLUDED_NOT_PREGNANT)} END AS exclusion
FROM {name}_enc e
LEFT JOIN "{episodes}" r ON r._key = e.row_number
LEFT JOIN {name}_patients pt ON pt.patient = e.patient
ORDER BY e.row_number"""


@dataclass
class FhirReading:
    """What flattening an export found besides the rows: its files, and the encounters that
    are not episodes, counted by reason (`earlypath.fhir.pregnancy`)."""

    export: ExportFiles
    excluded: dict[str, int] = field(default_factory=dict)
    encounters: int = 0  # every Encounter read (episodes, excluded and to be rejected)


def flatten_fhir_duckdb(con: Any, source: Path | ExportFiles, name: str) -> FhirReading:
    """Create view ``name`` (the flat cohort with ``row_number``) from a bulk export.

    ``source`` is the export's files (`discover_export`, which refuses an export without its
    Encounter, Patient and Condition files) or a folder, whose files are then read as they are.
    The view holds the encounters that are episodes; table ``{name}_t`` holds every encounter,
    with ``exclusion`` saying why one is not (NULL for an episode). ``con`` is an ibis DuckDB
    backend; the work tables it leaves are prefixed with ``name``.
    """
    export = source if isinstance(source, ExportFiles) else discover_export(source, RESOURCES, ())
    _load(con, export, name)
    con.raw_sql(_encounters_sql(name))
    con.raw_sql(_patients_sql(name))
    resources = load_resources(con, export.files, AUDIT_READING, f"{name}_r")
    con.raw_sql(
        f"CREATE OR REPLACE TABLE {name}_keys AS SELECT row_number AS _key, "
        f"episode_id AS encounter, patient, assessed_on FROM {name}_enc"
    )
    reading = run_records(
        con, AUDIT_READING, resources, f"{name}_keys", f"{name}_k", drop_inputs=True
    )
    assert reading.episodes is not None
    episodes = reading.episodes.get_name()
    con.raw_sql(_flat_sql(name, episodes, bool(export.of("MedicationRequest"))))
    con.raw_sql(
        f"CREATE OR REPLACE VIEW {name} AS SELECT * EXCLUDE (exclusion) FROM {name}_t "
        "WHERE exclusion IS NULL"
    )
    counts = con.con.sql(
        f"SELECT exclusion, count(*) FROM {name}_t WHERE exclusion IS NOT NULL "
        "GROUP BY exclusion ORDER BY exclusion"
    ).fetchall()
    ((encounters_read,),) = con.con.sql(f"SELECT count(*) FROM {name}_t").fetchall()
    return FhirReading(export, {reason: int(n) for reason, n in counts}, int(encounters_read))
