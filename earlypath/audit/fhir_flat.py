"""Flatten a FHIR R4 bulk export (a folder of NDJSON) into the flat cohort form, in DuckDB SQL.

One row per Encounter that is an episode, numbered by its position in the Encounter files (in the
order `earlypath.audit.fhir_files` gives them); ``assessed_on`` is the day of
``Encounter.period.start``. Who is judged: an encounter is an episode only when the record shows a
current pregnancy as of its day, and never when the patient is male (`earlypath.fhir.pregnancy`,
the same definition as the CDS patient-view's); the others are counted by reason in
``FhirReading.excluded``, so that rows_in = evaluated + excluded + rejected. Each row holds the facts the CDS Hooks service's mapping
(`earlypath.fhir.mapping.map_resources`) gives for the patient's record as of that day, summarised
by `earlypath.audit.flat.episode_to_flat`. The codes are the service's (the value sets) and so are
the rules, written here as set-based SQL (tests/audit/test_fhir_mapping_agrees.py holds the two
together):

- linkage by patient: a resource belongs to the Encounter's patient when its
  ``subject.reference`` (AllergyIntolerance: ``patient.reference``) points to the same Patient id
  as the Encounter's ``subject.reference``, whether written relative (``Patient/1``), absolute
  (``https://host/fhir/Patient/1``), with ``/_history/n``, or as ``urn:uuid:1`` (the resource of
  that id in the export); a reference to another type links nothing. Medication resources, which
  have no patient, serve every request.
- the pregnancy is dated from the LMP (the latest recorded of those whose date is not after
  ``assessed_on`` nor more than 45 weeks before it; one recorded after ``assessed_on`` is left
  out), else from the latest crown-rump length (of two on that day the larger, which is also the
  one the scan shows) with the engine's own dating rule (`earlypath.dating.GESTATION_DAYS`
  compiled by ibis, not a second formula). Each dated fact is then placed before or in this
  pregnancy, or not at all (undated, after ``assessed_on``, or undatable within 45 weeks), as
  `mapping._Timeline` does.
- entered-in-error Conditions and Observations without a usable status are ignored; refuted
  history codes mean "no previous miscarriage" when nothing else says otherwise; history codes
  give "at least" counts (neither counts when dated after ``assessed_on``; undated ones do);
  bleeding is the latest record of this pregnancy (present wins on the same day; resolved
  Conditions say nothing about now); an Observation coded for a finding (bleeding, intrauterine,
  ectopic, viable pregnancy, a miscarriage or its history) counts when its value is none, true
  or "present", says "not seen" when false or "absent", and nothing for any other value, except
  that an uncertain scan finding makes its day's location unknown (outranking an intrauterine
  finding, ending a carried one); CRLs and mean sac diameters in mm or cm, rounded to 0.01 mm as
  Python rounds (half to even on the exact value), 0-120 mm; the scan's location is carried
  forward from an earlier scan day; a CRL above 0 means a fetal pole; fetal heart activity as
  `mapping._heartbeats` reads it (a rate above 0 or a viable finding: seen; a rate of 0: not
  seen; an uncertain finding, or both on one day: unknown); progesterone from
  active/on-hold MedicationRequests not authored after ``assessed_on`` (by code, by name, or
  through ``medicationReference`` to a contained or exported Medication); allergies from
  AllergyIntolerance (not refuted, entered-in-error, inactive or resolved), whatever their
  date: a missed allergy could choose a product she reacts to.

One choice of input: the MedicationRequests of *this* Encounter are left out of
``on_progesterone``. They are the care given at this presentation (the audit's
``progesterone_prescribed``), made after the decision the audit judges; counted as "already on
progesterone" they would turn every prescription into a "continue". Earlier encounters'
prescriptions count as the service counts them.

What the SQL does not do: the service ignores a resource that ``fhir.resources`` cannot read as
FHIR R4 (an impossible date, a missing required element); this reads every JSON object it is
given. The flat form holds one scan (the latest, see `episode_to_flat`): earlier scans, and so the
dating scan when it is not the latest, are lost; the scan route has no code and stays Unknown.

Care given is audit-only (the service has no such fact) and stays linked to the encounter:
``progesterone_prescribed`` is a progesterone MedicationRequest whose ``encounter.reference`` is
this Encounter (in any of the reference forms above) (not cancelled or entered-in-error), ``prescribed_on`` the earliest
``authoredOn`` of those requests (a cancelled one was never given). A bulk export of
MedicationRequest lists every prescription, so when the export has MedicationRequest NDJSON an
encounter without one was not prescribed (false); when it has none at all, what was prescribed
is unknown (NULL).

Extras: site = Encounter.serviceProvider; age_band, ethnicity (UK Core extension) and
deprivation_quintile (extension ``urn:earlypath:imd-quintile``) from Patient.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis

from earlypath.audit.fhir_files import ExportFiles, discover_export
from earlypath.dating import GESTATION_DAYS
from earlypath.engines.ibis_compile import compile_expr
from earlypath.fhir.codes import CodeSet, code_set, status_list, unit_factors, word_pattern
from earlypath.fhir.mapping import MEDICATION_REFERENCE, OBSERVATION_VALUES, PRIMITIVE_VALUES
from earlypath.fhir.pregnancy import (
    EXCLUDED_MALE,
    EXCLUDED_NOT_PREGNANT,
    HCG_NEGATIVE_BELOW,
    HCG_UNITS,
    PREGNANCY_CONDITION_SETS,
    PREGNANCY_END_SETS,
    PREGNANCY_OBSERVATION_SETS,
    PREGNANCY_VALUE_SETS,
)
from earlypath.model.episode import MAX_LMP_WEEKS_BEFORE, MAX_MEASUREMENT_MM

__all__ = [
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
WINDOW_DAYS = MAX_LMP_WEEKS_BEFORE * 7
# As `mapping._allergies` reads AllergyIntolerance statuses.
ALLERGY_IGNORED_VERIFICATION = ("entered-in-error", "refuted")
ALLERGY_IGNORED_CLINICAL = ("inactive", "resolved")
# The code sets whose codes make a Condition or an Observation worth reading (its code, or for
# a scan finding its value).
# Findings about fetal heart activity (`mapping._heartbeats`), as a code or as a value.
HEART_FINDING_SETS = ("viable_pregnancy", "uncertain_viability")
CONDITION_SETS = (
    "miscarriage_event",
    "miscarriage_history",
    "bleeding",
    "ectopic_pregnancy",
    *HEART_FINDING_SETS,
)
SCAN_SETS = ("intrauterine_pregnancy", "ectopic_pregnancy")
OBSERVATION_SETS = (
    "miscarriage_event",
    "miscarriage_history",
    "last_menstrual_period",
    "crown_rump_length",
    "mean_sac_diameter",
    "fetal_heart_rate",
    "bleeding",
    *SCAN_SETS,
    *HEART_FINDING_SETS,
)
# Care given: requests in these statuses were never a prescription.
NOT_PRESCRIBED_STATUS = ("entered-in-error", "cancelled")
# The characters Python's str.strip() removes that a unit may plausibly carry.
_STRIP = " \t\n\r\x0b\x0c"


# --- what is read of each resource ---------------------------------------------------------------

# Each NDJSON line is parsed once, by json_transform, into a struct of the elements the mapping
# reads (an element of another JSON type than expected comes out NULL).
_REFERENCE = {"reference": "VARCHAR", "display": "VARCHAR"}
_CONCEPT = {
    "coding": [{"system": "VARCHAR", "code": "VARCHAR", "display": "VARCHAR"}],
    "text": "VARCHAR",
}
_CONCEPT_TYPE = (
    "STRUCT(coding STRUCT(system VARCHAR, code VARCHAR, display VARCHAR)[], text VARCHAR)"
)
# What a Condition and an AllergyIntolerance have alike: a code, two statuses, and the dates
# `_condition_day` reads (onset[x], else recordedDate).
_CODED_AND_DATED = {
    "code": _CONCEPT,
    "verificationStatus": _CONCEPT,
    "clinicalStatus": _CONCEPT,
    "onsetDateTime": "VARCHAR",
    "onsetPeriod": {"start": "VARCHAR"},
    "recordedDate": "VARCHAR",
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
    "Condition": {
        "subject": _REFERENCE,
        **_CODED_AND_DATED,
        "abatementDateTime": "VARCHAR",
        "abatementPeriod": {"start": "VARCHAR"},
    },
    "Observation": {
        "subject": _REFERENCE,
        "status": "VARCHAR",
        "code": _CONCEPT,
        "effectiveDateTime": "VARCHAR",
        "effectivePeriod": {"start": "VARCHAR"},
        "effectiveInstant": "VARCHAR",
        "issued": "VARCHAR",
        "valueBoolean": "VARCHAR",
        "valueCodeableConcept": _CONCEPT,
        "valueQuantity": {
            "value": "DOUBLE",
            "comparator": "VARCHAR",
            "unit": "VARCHAR",
            "code": "VARCHAR",
        },
        "valueString": "VARCHAR",
        "valueDateTime": "VARCHAR",
        # The other value[x] types are read only to know that a value is there.
        "valueInteger": "JSON",
        "valueRange": "JSON",
        "valueRatio": "JSON",
        "valueSampledData": "JSON",
        "valueTime": "JSON",
        "valuePeriod": "JSON",
        # A value said to be missing (`mapping._presence`).
        "dataAbsentReason": "JSON",
        **{f"_{name}": "JSON" for name in PRIMITIVE_VALUES},
    },
    "MedicationRequest": {
        "subject": _REFERENCE,
        "encounter": _REFERENCE,
        "status": "VARCHAR",
        "doNotPerform": "VARCHAR",
        "authoredOn": "VARCHAR",
        "medicationCodeableConcept": _CONCEPT,
        "medicationReference": _REFERENCE,
        "contained": [
            {
                "resourceType": "VARCHAR",
                "id": "VARCHAR",
                "code": _CONCEPT,
                "ingredient": [{"itemCodeableConcept": _CONCEPT}],
            }
        ],
    },
    "Medication": {
        "id": "VARCHAR",
        "code": _CONCEPT,
        "ingredient": [{"itemCodeableConcept": _CONCEPT}],
    },
    "AllergyIntolerance": {"patient": _REFERENCE, **_CODED_AND_DATED},
}


# --- SQL fragments --------------------------------------------------------------------------------


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


def _first_code(concept: str) -> str:
    """The code of a CodeableConcept's first coding (`mapping._code`)."""
    return f"{concept}.coding[1].code"


def _keys(concept: str) -> str:
    """A CodeableConcept's codings as 'system|code' strings, in order."""
    return (
        f"list_transform(coalesce({concept}.coding, []), "
        "lambda c: coalesce(c.system, '') || '|' || coalesce(c.code, ''))"
    )


def _set_keys(codes: CodeSet) -> list[str]:
    return sorted(f"{system}|{code}" for system, code in codes.codes)


def _matches(concept: str, codes: CodeSet) -> str:
    """`CodeSet.matches` on a CodeableConcept: a listed code, or a word in its text or display."""
    test = f"list_has_any({_keys(concept)}, {_list(_set_keys(codes))})"
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


def _has_code(name: str, keys: str = "code_keys") -> str:
    """`CodeSet.matches` for a set without words, on codings already read by `_keys`."""
    codes = code_set(name)
    if codes.words:
        raise ValueError(f"{name} is matched by words too: use _matches")
    return f"list_has_any({keys}, {_list(_set_keys(codes))})"


def _has_any_code(names: tuple[str, ...], keys: str = "code_keys") -> str:
    """Does a resource carry a code of any of these sets (is it worth reading)?"""
    keys_of_sets = sorted({key for name in names for key in _set_keys(code_set(name))})
    return f"list_has_any({keys}, {_list(keys_of_sets)})"


def _history_at_least() -> str:
    """The 'at least' count of the first coding that is a history code (`CodeSet.code_of`)."""
    history = code_set("miscarriage_history")
    counts = {f"{s}|{c}": history.at_least.get((s, c), 1) for s, c in history.codes}
    first = f"list_filter(code_keys, lambda k: list_contains({_list(sorted(counts))}, k))[1]"
    cases = " ".join(f"WHEN {_text(k)} THEN {n}" for k, n in sorted(counts.items()))
    return f"CASE {first} {cases} END"


def _place(day: str, assessed_on: str = "t.assessed_on", start: str = "t.start") -> str:
    """Where a day falls on the pregnancy timeline (`mapping._Timeline.place`)."""
    return (
        f"CASE WHEN {day} IS NULL THEN 'undated' WHEN {day} > {assessed_on} THEN 'future' "
        f"WHEN {start} IS NOT NULL THEN CASE WHEN {day} >= {start} THEN 'this' ELSE 'before' END "
        f"WHEN {day} < {assessed_on} - {WINDOW_DAYS} THEN 'before' ELSE 'unplaced' END"
    )


def _round_macro(name: str) -> str:
    """A macro rounding to 0.01 as Python's round(x, 2): half to even on the exact binary value.

    DuckDB's round() rounds ties away from zero (round(0.125, 2) = 0.13; Python gives 0.12).
    x * 2**70 is an exact integer for |x| >= 2**-18, so the hundredths and the remainder are
    computed exactly in HUGEINT; k / 100.0 is then the double nearest k hundredths, as in Python.
    Values of 1000 or more are left as they are (any CRL there is out of range either way).
    """
    scale = 2**70
    exact = f"(CAST(abs(x) * {float(scale)} AS HUGEINT) * 100)"
    hundredths = f"({exact} // {scale})"
    twice_rest = f"(2 * ({exact} % {scale}))"
    # Away from a tie (more than 1e-6 hundredths from one, while x * 100 errs by under 1e-10
    # here) DuckDB's round() gives the same double, and faster: only near-ties take the exact path.
    return f"""
CREATE OR REPLACE TEMP MACRO {name}(x) AS
  CASE WHEN x IS NULL OR NOT isfinite(x) OR abs(x) >= 1000 THEN x
       WHEN abs(x) < 0.001 THEN 0.0 * sign(x)
       WHEN abs(abs(x) * 100 - floor(abs(x) * 100) - 0.5) > 1e-6 THEN round(x, 2)
       ELSE sign(x) * CAST({hundredths}
         + CASE WHEN {twice_rest} > {scale} THEN 1 WHEN {twice_rest} < {scale} THEN 0
                ELSE {hundredths} % 2 END AS DOUBLE) / 100.0
  END"""


# --- sources --------------------------------------------------------------------------------------


def _source(files: list[Path]) -> str:
    if not files:
        return "(SELECT NULL::JSON AS json WHERE false)"
    paths = _list(str(p) for p in files)
    # .ndjson.gz is read through DuckDB's compression detection (by the file name)
    return f"read_json_objects({paths}, format = 'newline_delimited')"


def _load(con: Any, export: ExportFiles, name: str) -> dict[str, bool]:
    """Each resource file once into view ``{name}_<kind>`` (``fhir``, see `FIELDS`; n = position).

    Returns which kinds have files. Lines of another resourceType are left out (Patient and
    Encounter lines are all kept and numbered, as they always were).
    """
    present = {}
    for kind in RESOURCES:
        files = export.of(kind)
        present[kind] = bool(files)
        table = f"{name}_{kind.lower()}"
        spec = _text(json.dumps({"resourceType": "VARCHAR", **FIELDS[kind]}))
        con.raw_sql(
            f"CREATE OR REPLACE TABLE {table}_t AS "
            f"SELECT json_transform(json, {spec}) AS fhir FROM {_source(files)}"
        )
        # A table keeps the files' order (DuckDB preserves insertion order): rowid numbers lines.
        keep = "" if kind in ("Patient", "Encounter") else f"WHERE fhir.resourceType = '{kind}'"
        con.raw_sql(
            f"CREATE OR REPLACE VIEW {table} AS SELECT fhir, rowid + 1 AS n FROM {table}_t {keep}"
        )
    return present


# --- references -----------------------------------------------------------------------------------


def reference_pattern(kind: str) -> str:
    """A reference to a ``kind`` resource, its id in group 1: relative (``Patient/1``), absolute
    (``https://host/fhir/Patient/1``), either with ``/_history/n``. (RE2 and Python read it alike.)"""
    return rf"^(?:[^/]*/)*{kind}/([^/]+)(?:/_history/[^/]+)?$"


def _reference_id(reference: str, kind: str) -> str:
    """The id a reference points to within the export, or NULL: by `reference_pattern`, or
    ``urn:uuid:<id>`` (a bundle-style reference, resolved to the resource with that id)."""
    return (
        f"CASE WHEN starts_with({reference}, 'urn:uuid:') "
        f"THEN nullif(substr({reference}, 10), '') "
        f"ELSE nullif(regexp_extract({reference}, {_text(reference_pattern(kind))}, 1), '') END"
    )


def _patient_of(element: str = "fhir.subject") -> str:
    """The id of the patient a resource's ``subject`` (or ``patient``) refers to."""
    return _reference_id(f"{element}.reference", "Patient")


# --- one row per resource -------------------------------------------------------------------------


def _encounters_sql(name: str) -> str:
    return f"""
CREATE OR REPLACE TABLE {name}_enc AS
SELECT n AS row_number,
       fhir.id AS episode_id,
       {_patient_of()} AS patient,
       left(fhir.period.start, 10) AS assessed_text,
       {_day("fhir.period.start")} AS assessed_on,
       regexp_replace(fhir.serviceProvider.reference, '^Organization/', '') AS site,
       coalesce(list_bool_or(list_transform(coalesce(fhir.type, []), lambda k:
         {_matches("k", code_set("pregnancy_encounter_type"))})), false) AS pregnancy_visit
FROM {name}_encounter"""


def _condition_day() -> str:
    """`mapping._condition_day`: onsetDateTime, else onsetPeriod.start, else recordedDate (a
    Condition's or an AllergyIntolerance's)."""
    return (
        f"CASE WHEN fhir.onsetDateTime IS NOT NULL THEN {_day('fhir.onsetDateTime')} "
        f"WHEN fhir.onsetPeriod.start IS NOT NULL THEN {_day('fhir.onsetPeriod.start')} "
        f"ELSE {_day('fhir.recordedDate')} END"
    )


def _observation_day() -> str:
    """`mapping._observation_day`: effectiveDateTime, effectivePeriod.start, effectiveInstant, issued."""
    return (
        f"CASE WHEN fhir.effectiveDateTime IS NOT NULL THEN {_day('fhir.effectiveDateTime')} "
        f"WHEN fhir.effectivePeriod.start IS NOT NULL THEN {_day('fhir.effectivePeriod.start')} "
        f"WHEN fhir.effectiveInstant IS NOT NULL THEN {_day('fhir.effectiveInstant')} "
        f"ELSE {_day('fhir.issued')} END"
    )


def _conditions_sql(name: str) -> str:
    """Conditions as clinical facts (entered-in-error ones are not read at all)."""
    refuted = f"coalesce({_first_code('fhir.verificationStatus')} = 'refuted', false)"
    resolved_codes = _list(sorted(status_list("resolved_condition_clinical")))
    resolved = (
        f"coalesce(list_contains({resolved_codes}, {_first_code('fhir.clinicalStatus')}), false)"
    )
    return f"""
SELECT {_patient_of()} AS patient, n,
       {_condition_day()} AS day,
       history_at_least,
       history_at_least IS NOT NULL AND refuted AS history_refuted,
       {_has_code("miscarriage_event")} AND history_at_least IS NULL AND NOT refuted
         AS miscarriage,
       CASE WHEN NOT {_has_code("bleeding")} THEN NULL WHEN refuted THEN false
            WHEN {resolved} THEN NULL ELSE true END AS bleeding,
       CASE WHEN {_has_code("ectopic_pregnancy")} AND NOT refuted THEN 'ectopic' END
         AS location,
       NULL::DATE AS lmp_value,
       NULL::DOUBLE AS crl_mm,
       NULL::DOUBLE AS msd_mm,
       CASE WHEN refuted THEN NULL WHEN {_has_code("viable_pregnancy")} THEN 'seen'
            WHEN {_has_code("uncertain_viability")} THEN 'uncertain' END AS heart
FROM (SELECT *, {_history_at_least()} AS history_at_least, {refuted} AS refuted
      FROM (SELECT *, {_keys("fhir.code")} AS code_keys FROM {name}_condition)
      WHERE {_first_code("fhir.verificationStatus")} IS DISTINCT FROM 'entered-in-error'
        AND {_has_any_code(CONDITION_SETS)})"""


def _presence() -> str:
    """`mapping._presence`: what an Observation's value says about its finding (NULL: cannot
    tell, as for any other value type or a value said to be missing)."""
    value = "fhir.valueCodeableConcept"
    said = [*OBSERVATION_VALUES, "dataAbsentReason", *(f"_{name}" for name in PRIMITIVE_VALUES)]
    any_value = " OR ".join(f"fhir.{name} IS NOT NULL" for name in said)
    return (
        "CASE WHEN fhir.valueBoolean IS NOT NULL THEN TRY_CAST(fhir.valueBoolean AS BOOLEAN) "
        f"WHEN {value} IS NOT NULL THEN CASE "
        f"WHEN {_has_code('absent', 'value_keys')} THEN false "
        f"WHEN {_has_code('present', 'value_keys')} THEN true END "
        f"WHEN {any_value} THEN NULL "
        "ELSE true END"
    )


def _scan_location() -> str:
    """An Observation's scan finding (`mapping._scans`): a finding code, qualified by its value
    (only a present one counts), else a generic code with the finding as its value."""
    by_code = f"{_has_code('ectopic_pregnancy')} OR {_has_code('intrauterine_pregnancy')}"
    return (
        # neither yes nor no: 'uncertain', which makes the day's location unknown (see days)
        f"CASE WHEN {by_code} THEN CASE WHEN ({_presence()}) IS NULL THEN 'uncertain' "
        f"WHEN {_presence()} THEN "
        f"CASE WHEN {_has_code('ectopic_pregnancy')} THEN 'ectopic' ELSE 'intrauterine' END END "
        f"WHEN {_has_code('ectopic_pregnancy', 'value_keys')} THEN 'ectopic' "
        f"WHEN {_has_code('intrauterine_pregnancy', 'value_keys')} THEN 'intrauterine' END"
    )


def _length_raw_mm(round_macro: str, set_name: str = "crown_rump_length") -> str:
    """`mapping._lengths`: a CRL's (or an MSD's) valueQuantity in mm (to 0.01), or NULL without
    a known unit."""
    factors = " ".join(f"WHEN {_text(u)} THEN {float(f)!r}" for u, f in unit_factors().items())
    code, unit = "nullif(fhir.valueQuantity.code, '')", "nullif(fhir.valueQuantity.unit, '')"
    unit_key = f"lower(trim(coalesce({code}, {unit}, ''), {_text(_STRIP)}))"
    mm = f"{round_macro}(fhir.valueQuantity.value * CAST(CASE {unit_key} {factors} END AS DOUBLE))"
    # a bound ("< 5 mm", with a comparator) is not a measurement, as in the mapping
    bound = "fhir.valueQuantity.comparator IS NOT NULL"
    return f"CASE WHEN {_has_code(set_name)} AND NOT {bound} THEN {mm} END"


def _heart() -> str:
    """`mapping._heartbeats` for one Observation: 'seen', 'absent', 'uncertain' (the day's
    heartbeat unknown) or NULL (not read: no finding, or a value that cannot say)."""
    presence = f"({_presence()})"
    q = "fhir.valueQuantity"
    by_rate = (
        f"CASE WHEN {q} IS NOT NULL THEN CASE "
        f"WHEN {q}.value IS NULL OR {q}.comparator IS NOT NULL OR {q}.value < 0 THEN NULL "
        f"WHEN {q}.value > 0 THEN 'seen' ELSE 'absent' END "
        "WHEN fhir.valueBoolean IS NOT NULL OR fhir.valueCodeableConcept IS NOT NULL THEN "
        f"CASE WHEN {presence} THEN 'seen' WHEN NOT {presence} THEN 'absent' END END"
    )
    finding = f"{_has_code('viable_pregnancy')} OR {_has_code('uncertain_viability')}"
    return (
        f"CASE WHEN {_has_code('fetal_heart_rate')} THEN {by_rate} "
        f"WHEN {finding} THEN CASE WHEN {presence} IS NOT DISTINCT FROM false THEN NULL "
        f"WHEN {presence} AND {_has_code('viable_pregnancy')} THEN 'seen' ELSE 'uncertain' END "
        f"WHEN {_has_code('viable_pregnancy', 'value_keys')} THEN 'seen' "
        f"WHEN {_has_code('uncertain_viability', 'value_keys')} THEN 'uncertain' END"
    )


def _observations_sql(name: str, round_macro: str) -> str:
    """Observations with a usable status as clinical facts."""
    usable = _list(sorted(status_list("usable_observation_status")))
    return f"""
SELECT patient, n, day,
       -- a miscarriage or history Observation is a finding (`mapping._miscarriage_records`):
       -- present is the record, absent a recorded "no" (refuted), any other value not used
       CASE WHEN presence IS NOT NULL THEN hist_n END AS history_at_least,
       coalesce(hist_n IS NOT NULL AND NOT presence, false) AS history_refuted,
       coalesce(is_event AND hist_n IS NULL AND presence, false) AS miscarriage,
       bleeding, location, lmp_value,
       CASE WHEN crl_raw_mm BETWEEN 0 AND {MAX_MEASUREMENT_MM} THEN crl_raw_mm END AS crl_mm,
       CASE WHEN msd_raw_mm BETWEEN 0 AND {MAX_MEASUREMENT_MM} THEN msd_raw_mm END AS msd_mm,
       heart
FROM (
  SELECT {_patient_of()} AS patient, n,
         {_observation_day()} AS day,
         CASE WHEN {_has_code("bleeding")} THEN {_presence()} END AS bleeding,
         {_scan_location()} AS location,
         CASE WHEN {_has_code("last_menstrual_period")} THEN {_day("fhir.valueDateTime")} END
           AS lmp_value,
         {_length_raw_mm(round_macro)} AS crl_raw_mm,
         {_length_raw_mm(round_macro, "mean_sac_diameter")} AS msd_raw_mm,
         {_heart()} AS heart,
         {_history_at_least()} AS hist_n,
         {_has_code("miscarriage_event")} AS is_event,
         {_presence()} AS presence
  FROM (SELECT *, {_keys("fhir.code")} AS code_keys,
               {_keys("fhir.valueCodeableConcept")} AS value_keys
        FROM {name}_observation WHERE list_contains({usable}, fhir.status))
  WHERE {_has_any_code(OBSERVATION_SETS)}
     OR {_has_any_code((*SCAN_SETS, *HEART_FINDING_SETS), "value_keys")}
)"""


def _clinical_sql(name: str, round_macro: str) -> str:
    """Conditions and Observations coded for a fact the mapping reads, one row each."""
    return f"""
CREATE OR REPLACE TABLE {name}_clinical AS
{_conditions_sql(name)} UNION ALL {_observations_sql(name, round_macro)}"""


def _medication_concepts() -> str:
    """`mapping._medication_concepts`: the request's own concept, else the Medication referred to
    (contained, then exported: its code and its ingredients' concepts), else the reference's
    display as text; a list of concepts."""
    reference = "fhir.medicationReference.reference"
    contained = (
        "list_filter(coalesce(fhir.contained, []), lambda m: m.resourceType = 'Medication' "
        f"AND '#' || m.id = {reference})[1]"
    )
    display = "fhir.medicationReference.display"
    as_text = f"[CAST({{'coding': [], 'text': {display}}} AS {_CONCEPT_TYPE})]"

    def named_by(medication: str) -> str:
        ingredients = (
            f"list_transform(coalesce({medication}.ingredient, []), "
            "lambda i: i.itemCodeableConcept)"
        )
        return (
            f"list_filter(list_concat([{medication}.code], {ingredients}), lambda x: x IS NOT NULL)"
        )

    return f"""CASE
  WHEN fhir.medicationCodeableConcept IS NOT NULL THEN [fhir.medicationCodeableConcept]
  WHEN fhir.medicationReference IS NULL THEN []
  WHEN coalesce({reference}, '') = '' THEN CASE WHEN {display} IS NOT NULL THEN {as_text} END
  WHEN {contained} IS NOT NULL THEN {named_by(contained)}
  WHEN med.found THEN {named_by("med")}
  WHEN {display} IS NOT NULL THEN {as_text}
END"""


def _medication_requests_sql(name: str) -> str:
    # A reference finds a Medication by the id in it ('Medication/x', 'http://s/Medication/x',
    # either with '/_history/n'), with the mapping's own pattern (RE2 reads it as Python does;
    # '^...$' is a whole match as re.fullmatch is); the last Medication of that id in the export
    # wins (a dict filled in order). Anything else finds none.
    medication_id = (
        "nullif(regexp_extract(fhir.medicationReference.reference, "
        f"{_text('^' + MEDICATION_REFERENCE + '$')}, 1), '')"
    )
    return f"""
CREATE OR REPLACE TABLE {name}_requests AS
SELECT patient, encounter, n, status, authored,
       -- a "do not perform" request forbids the medicine: it is no prescription of it
       coalesce(list_bool_or(list_transform(concepts, lambda k:
         {_matches("k", code_set("progesterone"))})), false)
         AND NOT do_not_perform AS progesterone
FROM (
  SELECT req.n,
         coalesce(TRY_CAST(fhir.doNotPerform AS BOOLEAN), false) AS do_not_perform,
         {_patient_of()} AS patient,
         -- care given at the encounter it refers to (relative, absolute or urn:uuid)
         {_reference_id("fhir.encounter.reference", "Encounter")} AS encounter,
         fhir.status AS status,
         {_day("fhir.authoredOn")} AS authored,
         {_medication_concepts()} AS concepts
  FROM {name}_medicationrequest req
  LEFT JOIN (
    SELECT fhir.id AS id, arg_max_null(fhir.code, n) AS code,
           arg_max_null(fhir.ingredient, n) AS ingredient, true AS found
    FROM {name}_medication GROUP BY fhir.id
  ) med ON med.id = {medication_id}
)"""


def _allergies_sql(name: str) -> str:
    """Per encounter: the patient's allergies, in file order (`mapping._allergies`)."""
    verification = _first_code("fhir.verificationStatus")
    clinical = _first_code("fhir.clinicalStatus")
    displays = (
        "list_filter(coalesce(fhir.code.coding, []), lambda c: coalesce(c.display, '') <> '')"
    )
    return f"""
CREATE OR REPLACE TABLE {name}_allergies AS
SELECT e.row_number, string_agg(a.allergy, '; ' ORDER BY a.n) AS allergies
FROM {name}_enc e
JOIN (
  SELECT {_patient_of("fhir.patient")} AS patient, n,
         left(coalesce(nullif(fhir.code.text, ''), {displays}[1].display), 200) AS allergy
  FROM {name}_allergyintolerance
  WHERE NOT coalesce(list_contains({_list(ALLERGY_IGNORED_VERIFICATION)}, {verification}), false)
    AND NOT coalesce(list_contains({_list(ALLERGY_IGNORED_CLINICAL)}, {clinical}), false)
) a ON a.patient = e.patient
-- whatever its date, as mapping._allergies: a missed allergy could choose the wrong product
WHERE coalesce(a.allergy, '') <> ''
GROUP BY e.row_number"""


# --- one row per encounter ------------------------------------------------------------------------


def _dating_sql(name: str) -> str:
    """Per dated encounter: the LMP (`mapping._lmp`) and the latest CRL (`mapping._crls`; of
    two on the latest day the larger, as `map_resources` dates), before any timeline exists."""
    window = f"BETWEEN e.assessed_on - {WINDOW_DAYS} AND e.assessed_on"
    return f"""
CREATE OR REPLACE TABLE {name}_dating AS
SELECT e.row_number, e.assessed_on,
  -- c.day is when the LMP was recorded (`mapping._observation_day`): not after the encounter
  max({{'recorded': coalesce(c.day, c.lmp_value), 'value': c.lmp_value}})
    FILTER (WHERE c.lmp_value {window} AND NOT coalesce(c.day > e.assessed_on, false)).value
    AS lmp,
  arg_max(c.crl_mm, {{'day': c.day, 'mm': c.crl_mm}})
    FILTER (WHERE c.crl_mm IS NOT NULL AND c.day {window}) AS dating_crl_mm,
  max(c.day) FILTER (WHERE c.crl_mm IS NOT NULL AND c.day {window}) AS dating_scan_date
FROM {name}_enc e
LEFT JOIN {name}_clinical c
  ON c.patient = e.patient AND (c.lmp_value IS NOT NULL OR c.crl_mm IS NOT NULL)
WHERE e.assessed_on IS NOT NULL
GROUP BY e.row_number, e.assessed_on"""


def _gestation_sql(con: Any, name: str) -> str:
    """The gestation (days) a lone CRL scan gives, compiled from the engine's dating rule.

    `mapping._gestation_start` asks the engine with an episode holding only that scan (no LMP).
    """
    t = ibis.table(
        {
            "row_number": "int64",
            "assessed_on": "date",
            "lmp": "date",
            "dating_crl_mm": "float64",
            "dating_scan_date": "date",
        },
        name=f"{name}_dating",
    )
    without_lmp = compile_expr(
        GESTATION_DAYS, lambda fact: ibis.null("date") if fact == "lmp" else t[fact]
    )
    return str(con.compile(t.mutate(crl_gestation_days=without_lmp)))


def _timeline_sql(name: str) -> str:
    return f"""
CREATE OR REPLACE TABLE {name}_timeline AS
SELECT e.row_number, e.patient, e.episode_id, d.assessed_on, d.lmp,
       coalesce(d.lmp, d.assessed_on - CAST(d.crl_gestation_days AS INTEGER)) AS start
FROM {name}_enc e JOIN {name}_gestation d USING (row_number)"""


def _facts_sql(name: str) -> str:
    """Per encounter: previous miscarriages, miscarriage diagnosed and bleeding, as placed."""
    return f"""
CREATE OR REPLACE TABLE {name}_facts AS
SELECT row_number,
  -- history codes are not placed in a pregnancy, only left out when dated after the encounter
  max(history_at_least) FILTER (WHERE NOT history_refuted AND place <> 'future') AS at_least,
  bool_or(history_refuted AND place <> 'future') AS history_refuted,
  count(DISTINCT day) FILTER (WHERE miscarriage AND place = 'before') AS before_days,
  -- a miscarriage that could not be placed: a refuted history no longer says "none"
  coalesce(bool_or(miscarriage AND place IN ('undated', 'unplaced')), false) AS unplaced,
  coalesce(bool_or(miscarriage AND place = 'this'), false) AS miscarriage_diagnosed,
  -- the latest record of this pregnancy; on the same day "present" (true) sorts last and wins
  max({{'day': day, 'present': bleeding}})
    FILTER (WHERE bleeding IS NOT NULL AND place = 'this').present AS vaginal_bleeding
FROM (SELECT t.row_number, c.*, {_place("c.day")} AS place
      FROM {name}_timeline t JOIN {name}_clinical c ON c.patient = t.patient
      WHERE c.history_at_least IS NOT NULL OR c.history_refuted OR c.miscarriage
         OR c.bleeding IS NOT NULL)
GROUP BY row_number"""


def _scans_sql(name: str) -> str:
    """Per encounter: the latest scan day of this pregnancy (`mapping._scans`, then the latest)."""
    in_window = f"c.day >= t.assessed_on - {WINDOW_DAYS}"
    crl_counts = f"c.crl_mm IS NOT NULL AND {in_window}"
    msd_counts = f"c.msd_mm IS NOT NULL AND {in_window}"
    return f"""
CREATE OR REPLACE TABLE {name}_scans AS
WITH findings AS (
  SELECT t.row_number, c.day, c.n, c.location, c.heart,
         CASE WHEN {crl_counts} THEN c.crl_mm END AS crl_mm,
         CASE WHEN {msd_counts} THEN c.msd_mm END AS msd_mm
  FROM {name}_timeline t JOIN {name}_clinical c ON c.patient = t.patient
  WHERE (c.location IS NOT NULL OR c.heart IS NOT NULL OR {crl_counts} OR {msd_counts})
    AND {_place("c.day")} = 'this'
),
days AS (
  SELECT row_number, day,
         -- a definite ectopic, then an uncertain finding (the day's location unknown: it ends
         -- a location carried from earlier days), then an intrauterine one
         CASE WHEN bool_or(location = 'ectopic') THEN 'ectopic'
              WHEN bool_or(location = 'uncertain') THEN 'unknown'
              WHEN bool_or(location = 'intrauterine') THEN 'intrauterine' END AS location,
         -- two CRLs on one day: the larger, as the mapping shows and dates by (MSDs alike)
         max(crl_mm) AS crl_mm,
         max(msd_mm) AS msd_mm,
         -- one answer on the day or none: seen and not seen, or an uncertain finding, is unknown
         CASE WHEN bool_or(heart = 'uncertain')
                OR (bool_or(heart = 'seen') AND bool_or(heart = 'absent')) THEN NULL
              WHEN bool_or(heart = 'seen') THEN true
              WHEN bool_or(heart = 'absent') THEN false END AS heartbeat
  FROM findings GROUP BY row_number, day
)
SELECT row_number, max(day) AS scan_date,
       -- a location seen on an earlier day stands until another is recorded
       coalesce(arg_max(location, day) FILTER (WHERE location IS NOT NULL), 'unknown')
         AS scan_location,
       arg_max_null(crl_mm, day) AS crl_mm,
       arg_max_null(msd_mm, day) AS msd_mm,
       arg_max_null(heartbeat, day) AS fetal_heartbeat
FROM days GROUP BY row_number"""


def _progesterone_sql(name: str) -> str:
    """Per encounter: on progesterone (`mapping._on_progesterone`) and the care given here."""
    active = _list(sorted(status_list("active_medication_status")))
    return f"""
CREATE OR REPLACE TABLE {name}_progesterone AS
SELECT t.row_number,
  -- this encounter's own requests are the care given, not what she was on: see the docstring
  bool_or(r.progesterone AND r.status IN (SELECT unnest({active}))
          -- not written after the encounter, nor before this pregnancy
          AND {_place("r.authored")} NOT IN ('future', 'before')
          AND r.encounter IS DISTINCT FROM t.episode_id) AS on_progesterone,
  bool_or(r.progesterone AND r.encounter = t.episode_id
          AND r.status NOT IN (SELECT unnest({_list(NOT_PRESCRIBED_STATUS)}))) AS prescribed,
  -- the date of the first prescription that counts: a cancelled one was never given
  min(r.authored) FILTER (WHERE r.progesterone AND r.encounter = t.episode_id
          AND r.status NOT IN (SELECT unnest({_list(NOT_PRESCRIBED_STATUS)}))) AS prescribed_on
FROM {name}_timeline t
JOIN {name}_requests r ON r.patient = t.patient AND r.progesterone
GROUP BY t.row_number"""


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


def _flat_sql(name: str, has_requests: bool) -> str:
    """The flat row of each encounter (text cells, as a CSV gives them; NULL = Unknown)."""
    prescribed = "coalesce(p.prescribed, false)" if has_requests else "NULL::BOOLEAN"
    assessed = "TRY_CAST(e.assessed_text AS DATE)"
    return f"""
CREATE OR REPLACE TABLE {name}_t AS
SELECT e.row_number, e.episode_id, e.assessed_text AS assessed_on,
  CAST(CASE WHEN f.at_least IS NOT NULL OR f.before_days > 0
            THEN greatest(coalesce(f.at_least, 0), f.before_days)
            WHEN f.history_refuted AND NOT f.unplaced THEN 0 END AS VARCHAR)
    AS previous_miscarriages,
  CAST(f.vaginal_bleeding AS VARCHAR) AS vaginal_bleeding,
  CAST(t.lmp AS VARCHAR) AS lmp,
  CAST(s.scan_date AS VARCHAR) AS scan_date,
  NULL::VARCHAR AS scan_route,
  s.scan_location,
  CASE WHEN s.crl_mm > 0 THEN 'true' END AS fetal_pole,
  CAST(s.fetal_heartbeat AS VARCHAR) AS fetal_heartbeat,
  CAST(s.crl_mm AS VARCHAR) AS crl_mm,
  CAST(s.msd_mm AS VARCHAR) AS msd_mm,
  CAST(coalesce(f.miscarriage_diagnosed, false) AS VARCHAR) AS miscarriage_diagnosed,
  CAST(coalesce(p.on_progesterone, false) AS VARCHAR) AS on_progesterone,
  a.allergies,
  CAST({prescribed} AS VARCHAR) AS progesterone_prescribed,
  CAST(p.prescribed_on AS VARCHAR) AS prescribed_on,
  e.site,
  {_age_band("pt.birth", assessed)} AS age_band,
  coalesce(pt.eth.valueCodeableConcept.coding[1].display, pt.eth.valueCodeableConcept.text)
    AS ethnicity,
  TRY_CAST(pt.imd.valueInteger AS BIGINT) AS deprivation_quintile,
  x.exclusion
FROM {name}_enc e
LEFT JOIN {name}_timeline t USING (row_number)
LEFT JOIN {name}_facts f USING (row_number)
LEFT JOIN {name}_scans s USING (row_number)
LEFT JOIN {name}_progesterone p USING (row_number)
LEFT JOIN {name}_allergies a USING (row_number)
LEFT JOIN {name}_patients pt ON pt.patient = e.patient
LEFT JOIN {name}_exclusion x USING (row_number)
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
    present = _load(con, export, name)
    round_macro = f"{name}_round2"
    con.raw_sql(_round_macro(round_macro))
    steps = [
        _encounters_sql(name),
        _clinical_sql(name, round_macro),
        _medication_requests_sql(name),
        _allergies_sql(name),
        _patients_sql(name),
        _dating_sql(name),
        f"CREATE OR REPLACE VIEW {name}_gestation AS {_gestation_sql(con, name)}",
        _timeline_sql(name),
        _facts_sql(name),
        _scans_sql(name),
        _progesterone_sql(name),
        _pregnancy_signs_sql(name),
        _exclusion_sql(name),
        _flat_sql(name, present["MedicationRequest"]),
    ]
    for sql in steps:
        con.raw_sql(sql)
    con.raw_sql(
        f"CREATE OR REPLACE VIEW {name} AS SELECT * EXCLUDE (exclusion) FROM {name}_t "
        "WHERE exclusion IS NULL"
    )
    counts = con.con.sql(
        f"SELECT exclusion, count(*) FROM {name}_t WHERE exclusion IS NOT NULL "
        "GROUP BY exclusion ORDER BY exclusion"
    ).fetchall()
    ((encounters,),) = con.con.sql(f"SELECT count(*) FROM {name}_t").fetchall()
    return FhirReading(export, {reason: int(n) for reason, n in counts}, int(encounters))


# --- who is judged: a current pregnancy -----------------------------------------------------------


def _abatement_day() -> str:
    return (
        f"CASE WHEN fhir.abatementDateTime IS NOT NULL THEN {_day('fhir.abatementDateTime')} "
        f"ELSE {_day('fhir.abatementPeriod.start')} END"
    )


def _matches_any(concept: str, names: tuple[str, ...]) -> str:
    return "(" + " OR ".join(_matches(concept, code_set(n)) for n in names) + ")"


def _hcg_negative() -> str:
    """`pregnancy.hcg_negative`: false, an absent or negative answer, or below 5 IU/L."""
    value = "fhir.valueCodeableConcept"
    unit = (
        "lower(trim(coalesce(nullif(fhir.valueQuantity.code, ''), "
        f"nullif(fhir.valueQuantity.unit, ''), ''), {_text(_STRIP)}))"
    )
    amount, limit = "fhir.valueQuantity.value", float(HCG_NEGATIVE_BELOW)
    below = (
        f"({amount} < {limit} OR (fhir.valueQuantity.comparator IN ('<', '<=') "
        f"AND {amount} <= {limit}))"
    )
    return (
        "CASE WHEN fhir.valueBoolean IS NOT NULL "
        "THEN coalesce(NOT TRY_CAST(fhir.valueBoolean AS BOOLEAN), false) "
        f"WHEN {value} IS NOT NULL THEN {_matches_any(value, ('absent', 'negative'))} "
        f"WHEN {amount} IS NOT NULL AND {unit} IN (SELECT unnest({_list(HCG_UNITS)})) "
        f"THEN {below} ELSE false END"
    )


def _pregnancy_signs_sql(name: str) -> str:
    """Conditions and Observations that show a pregnancy (`pregnancy.condition_evidence` and
    `observation_evidence`), one row each: the patient, the day, a Condition's abatement, and
    whether it ends a pregnancy (a miscarriage: evidence on its own days only, its onset and its
    recording)."""
    verification = _first_code("fhir.verificationStatus")
    usable = _list(sorted(status_list("usable_observation_status")))
    code, value = "fhir.code", "fhir.valueCodeableConcept"
    observation_shows = (
        f"{_matches_any(code, PREGNANCY_OBSERVATION_SETS)} "
        f"OR {_matches_any(value, PREGNANCY_VALUE_SETS)} "
        f"OR ({_matches_any(code, ('pregnancy_status',))} "
        f"AND {_matches_any(value, ('pregnancy_status_pregnant',))}) "
        f"OR ({_matches_any(code, ('hcg',))} AND NOT {_hcg_negative()})"
    )
    return f"""
CREATE OR REPLACE TABLE {name}_signs AS
SELECT * FROM (
  SELECT {_patient_of()} AS patient, {_condition_day()} AS day, {_abatement_day()} AS abated,
         false AS ends
  FROM {name}_condition
  WHERE NOT coalesce({verification} IN ('refuted', 'entered-in-error'), false)
    AND {_matches_any(code, PREGNANCY_CONDITION_SETS)}
  UNION ALL
  SELECT {_patient_of()} AS patient,
         unnest([{_condition_day()}, {_day("fhir.recordedDate")}]) AS day,
         NULL::DATE AS abated, true AS ends
  FROM {name}_condition
  WHERE NOT coalesce({verification} IN ('refuted', 'entered-in-error'), false)
    AND {_matches_any(code, PREGNANCY_END_SETS)}
  UNION ALL
  SELECT {_patient_of()} AS patient, {_observation_day()} AS day, NULL::DATE AS abated,
         false AS ends
  FROM {name}_observation
  WHERE list_contains({usable}, fhir.status) AND ({observation_shows})
) WHERE patient IS NOT NULL AND day IS NOT NULL"""


def _exclusion_sql(name: str) -> str:
    """Why each encounter is not an episode, or NULL (`pregnancy.exclusion`): a man's, or one
    with no evidence of a current pregnancy as of its day. An encounter with no date (or no
    patient) cannot be placed: it stays in, to be rejected or judged as it is."""
    window = f"BETWEEN e.assessed_on - {WINDOW_DAYS} AND e.assessed_on"
    return f"""
CREATE OR REPLACE TABLE {name}_exclusion AS
WITH shown AS (
  SELECT DISTINCT e.row_number
  FROM {name}_enc e JOIN {name}_signs s ON s.patient = e.patient
  WHERE CASE WHEN s.ends THEN s.day = e.assessed_on
             ELSE s.day {window} AND NOT coalesce(s.abated < e.assessed_on, false) END
)
SELECT e.row_number,
  CASE WHEN pt.gender = 'male' THEN {_text(EXCLUDED_MALE)}
       WHEN e.assessed_on IS NULL OR e.patient IS NULL THEN NULL
       WHEN e.pregnancy_visit OR d.lmp IS NOT NULL OR sh.row_number IS NOT NULL THEN NULL
       ELSE {_text(EXCLUDED_NOT_PREGNANT)} END AS exclusion
FROM {name}_enc e
LEFT JOIN {name}_patients pt ON pt.patient = e.patient
LEFT JOIN {name}_dating d USING (row_number)
LEFT JOIN shown sh USING (row_number)"""
