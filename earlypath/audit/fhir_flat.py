"""Flatten a FHIR R4 bulk export (a folder of NDJSON) into the flat cohort form, in DuckDB SQL.

The codes are the FHIR mapping's (`earlypath/fhir/codes.json`, shared with the CDS Hooks
service). One episode per Encounter (``Encounter.period.start`` = ``assessed_on``), numbered in
the order of Encounter.ndjson. Because a bulk export gives every resource its encounter, the
audit links episode facts through ``encounter.reference`` (the CDS mapping, which sees one
patient's record without that context, places them on a pregnancy timeline instead):

- vaginal_bleeding: a bleeding Condition/Observation of the encounter (refuted = false);
- lmp: the LOINC 8665-2 Observation's date; the scan: the encounter's latest intrauterine
  (370383002) / ectopic (34801009) finding and crown-rump length (LOINC 11957-8, mm or cm);
  a CRL above 0 means a fetal pole, as in the CDS mapping; the heartbeat has no code: Unknown;
- miscarriage_diagnosed: a miscarriage Condition of the encounter;
- previous_miscarriages: from the patient's history Conditions (161744009 at least 1,
  102878001 at least 2; a refuted history with nothing else = 0) and miscarriage Conditions with
  an onset more than 45 weeks before; none of these = Unknown;
- on_progesterone: an active progesterone MedicationRequest authored before ``assessed_on``;
  progesterone_prescribed (care given): one of the encounter's, authored on/after it (absent =
  false: an export has no row for what was not prescribed);
- site: Encounter.serviceProvider; age_band, ethnicity (UK Core extension), deprivation_quintile
  (extension ``urn:earlypath:imd-quintile``) from Patient.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from earlypath.fhir.codes import raw_codes

__all__ = ["IMD_EXTENSION", "ETHNICITY_EXTENSION", "flatten_fhir_duckdb"]

IMD_EXTENSION = "urn:earlypath:imd-quintile"
ETHNICITY_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
RESOURCES = ("Patient", "Encounter", "Condition", "Observation", "MedicationRequest")


def _keys(name: str) -> list[str]:
    data = raw_codes()
    systems = data["systems"]
    return [f"{systems.get(c['system'], c['system'])}|{c['code']}" for c in data[name]["codes"]]


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _source(folder: Path, kind: str) -> str:
    files = sorted(folder.glob(f"{kind}*.ndjson"))
    if not files:
        return "(SELECT NULL::JSON AS j WHERE false)"
    paths = _list([str(p) for p in files])
    return f"(SELECT json AS j FROM read_json_objects({paths}, format = 'newline_delimited'))"


def flatten_fhir_duckdb(con: Any, folder: Path, name: str) -> None:
    """Create view ``name`` (the flat cohort with ``row_number``) from the NDJSON in ``folder``."""
    codes = raw_codes()
    history = {
        f"{codes['systems'][c['system']]}|{c['code']}": int(c.get("at_least", 1))
        for c in codes["miscarriage_history"]["codes"]
    }
    history_case = " ".join(f"WHEN k = '{k}' THEN {v}" for k, v in history.items())
    words = codes["progesterone"]["words"]
    word_test = " OR ".join(f"lower(text) LIKE '%{w}%'" for w in words)
    units = codes["crown_rump_length"]["units_to_mm"]
    unit_case = " ".join(f"WHEN '{u}' THEN {f}" for u, f in units.items())
    active = _list(list(codes["active_medication_status"]))
    obs_ok = _list(list(codes["usable_observation_status"]))

    def table(kind: str) -> str:
        return f"{name}_{kind.lower()}"

    # Each resource file once into a table (resource JSON + line number): ``n`` keeps file order.
    for kind in RESOURCES:
        con.raw_sql(
            f"CREATE OR REPLACE TABLE {table(kind)}_t AS SELECT * FROM {_source(folder, kind)}"
        )
        con.raw_sql(
            f"CREATE OR REPLACE VIEW {table(kind)} AS SELECT j, rowid + 1 AS n FROM {table(kind)}_t"
        )

    keys = (
        "list_transform(coalesce(json_extract(j, '$.code.coding[*]'), []), "
        "lambda c: json_extract_string(c, '$.system') || '|' || json_extract_string(c, '$.code'))"
    )
    con.raw_sql(
        f"""
CREATE OR REPLACE VIEW {name}_facts AS
WITH enc AS (
  SELECT n AS row_number,
         json_extract_string(j, '$.id') AS episode_id,
         json_extract_string(j, '$.subject.reference') AS patient,
         CAST(left(json_extract_string(j, '$.period.start'), 10) AS VARCHAR) AS assessed_on,
         regexp_replace(json_extract_string(j, '$.serviceProvider.reference'), '^Organization/', '')
           AS site
  FROM {table("Encounter")}
),
res AS (
  SELECT 'Condition' AS kind, j,
         regexp_replace(json_extract_string(j, '$.encounter.reference'), '^Encounter/', '') AS encounter,
         json_extract_string(j, '$.subject.reference') AS patient,
         TRY_CAST(left(json_extract_string(j, '$.onsetDateTime'), 10) AS DATE) AS day,
         json_extract_string(j, '$.verificationStatus.coding[0].code') AS verification,
         {keys} AS keys
  FROM {table("Condition")}
  UNION ALL
  SELECT 'Observation', j,
         regexp_replace(json_extract_string(j, '$.encounter.reference'), '^Encounter/', ''),
         json_extract_string(j, '$.subject.reference'),
         TRY_CAST(left(json_extract_string(j, '$.effectiveDateTime'), 10) AS DATE),
         CASE WHEN json_extract_string(j, '$.status') IN (SELECT unnest({obs_ok})) THEN 'ok'
              ELSE 'unusable' END,
         {keys}
  FROM {table("Observation")}
),
ep AS (
  SELECT e.row_number, r.*
  FROM enc e JOIN res r ON r.encounter = e.episode_id
  WHERE coalesce(r.verification, '') NOT IN ('entered-in-error', 'unusable')
),
per_episode AS (
  SELECT row_number,
    -- bleeding: present unless refuted; a refuted record alone = false
    CASE WHEN bool_or(list_has_any(keys, {_list(_keys("bleeding"))}) AND coalesce(verification, '') <> 'refuted'
                      AND coalesce(json_extract_string(j, '$.valueBoolean'), 'true') = 'true') THEN 'true'
         WHEN bool_or(list_has_any(keys, {_list(_keys("bleeding"))})) THEN 'false' END AS vaginal_bleeding,
    max(CASE WHEN list_has_any(keys, {_list(_keys("last_menstrual_period"))})
             THEN left(json_extract_string(j, '$.valueDateTime'), 10) END) AS lmp,
    bool_or(kind = 'Condition' AND list_has_any(keys, {_list(_keys("miscarriage_event"))})
            AND coalesce(verification, '') <> 'refuted') AS miscarriage_diagnosed,
    max(CASE WHEN list_has_any(keys, {_list(_keys("ectopic_pregnancy"))}) AND coalesce(verification, '') <> 'refuted'
             THEN day END) AS ectopic_day,
    max(CASE WHEN list_has_any(keys, {_list(_keys("intrauterine_pregnancy"))}) THEN day END) AS iup_day,
    arg_max(CASE WHEN list_has_any(keys, {_list(_keys("crown_rump_length"))})
                 THEN TRY_CAST(json_extract_string(j, '$.valueQuantity.value') AS DOUBLE)
                      * CASE lower(coalesce(json_extract_string(j, '$.valueQuantity.code'),
                                            json_extract_string(j, '$.valueQuantity.unit'), ''))
                        {unit_case} END END,
            CASE WHEN list_has_any(keys, {_list(_keys("crown_rump_length"))}) THEN day END) AS crl_mm,
    max(CASE WHEN list_has_any(keys, {_list(_keys("crown_rump_length"))}) THEN day END) AS crl_day
  FROM ep GROUP BY row_number
),
history AS (
  SELECT e.row_number,
    max(CASE {history_case} END) FILTER (WHERE coalesce(r.verification, '') NOT IN ('refuted', 'entered-in-error')) AS at_least,
    count(DISTINCT r.day) FILTER (
      WHERE list_has_any(r.keys, {_list(_keys("miscarriage_event"))})
        AND coalesce(r.verification, '') NOT IN ('refuted', 'entered-in-error')
        AND r.day < CAST(e.assessed_on AS DATE) - INTERVAL 315 DAY) AS before_count,
    bool_or(CASE {history_case} END IS NOT NULL AND r.verification = 'refuted') AS refuted
  FROM enc e
  JOIN (SELECT *, unnest(keys) AS k FROM res WHERE kind = 'Condition') r ON r.patient = e.patient
  GROUP BY e.row_number
),
meds AS (
  SELECT regexp_replace(json_extract_string(j, '$.encounter.reference'), '^Encounter/', '') AS encounter,
         json_extract_string(j, '$.subject.reference') AS patient,
         json_extract_string(j, '$.status') AS status,
         TRY_CAST(left(json_extract_string(j, '$.authoredOn'), 10) AS DATE) AS day
  FROM (SELECT j, lower(coalesce(json_extract_string(j, '$.medicationCodeableConcept.text'), '') || ' ' ||
                       array_to_string(coalesce(json_extract_string(j, '$.medicationCodeableConcept.coding[*].display'), []), ' ')) AS text,
               list_transform(coalesce(json_extract(j, '$.medicationCodeableConcept.coding[*]'), []),
                  lambda c: json_extract_string(c, '$.system') || '|' || json_extract_string(c, '$.code')) AS keys
        FROM {table("MedicationRequest")})
  WHERE list_has_any(keys, {_list(_keys("progesterone"))}) OR {word_test}
),
care AS (
  SELECT e.row_number,
    bool_or(m.status IN (SELECT unnest({active})) AND m.day < CAST(e.assessed_on AS DATE)) AS on_progesterone,
    bool_or(m.encounter = e.episode_id AND m.status NOT IN ('entered-in-error', 'cancelled')) AS prescribed,
    min(CASE WHEN m.encounter = e.episode_id THEN m.day END) AS prescribed_on
  FROM enc e JOIN meds m ON m.patient = e.patient
  GROUP BY e.row_number
),
pat AS (
  SELECT 'Patient/' || json_extract_string(j, '$.id') AS patient,
         TRY_CAST(json_extract_string(j, '$.birthDate') AS DATE) AS birth,
         list_filter(coalesce(json_extract(j, '$.extension[*]'), []),
                     lambda x: json_extract_string(x, '$.url') = '{ETHNICITY_EXTENSION}')[1] AS eth,
         list_filter(coalesce(json_extract(j, '$.extension[*]'), []),
                     lambda x: json_extract_string(x, '$.url') = '{IMD_EXTENSION}')[1] AS imd
  FROM {table("Patient")}
  QUALIFY row_number() OVER (PARTITION BY json_extract_string(j, '$.id') ORDER BY n) = 1
)
SELECT e.row_number, e.episode_id, e.assessed_on,
  CASE WHEN h.at_least IS NULL AND coalesce(h.before_count, 0) = 0
       THEN CASE WHEN h.refuted THEN '0' END
       ELSE CAST(greatest(coalesce(h.at_least, 0), coalesce(h.before_count, 0)) AS VARCHAR) END
    AS previous_miscarriages,
  p.vaginal_bleeding, p.lmp,
  CAST(greatest(p.ectopic_day, p.iup_day, p.crl_day) AS VARCHAR) AS scan_date,
  CASE WHEN greatest(p.ectopic_day, p.iup_day, p.crl_day) IS NOT NULL THEN
    CASE WHEN p.ectopic_day IS NOT NULL THEN 'ectopic'
         WHEN p.iup_day IS NOT NULL THEN 'intrauterine' ELSE 'unknown' END END AS scan_location,
  CASE WHEN p.crl_mm > 0 THEN 'true' END AS fetal_pole,
  CAST(round(p.crl_mm, 2) AS VARCHAR) AS crl_mm,
  CAST(coalesce(p.miscarriage_diagnosed, false) AS VARCHAR) AS miscarriage_diagnosed,
  CAST(coalesce(c.on_progesterone, false) AS VARCHAR) AS on_progesterone,
  CAST(coalesce(c.prescribed, false) AS VARCHAR) AS progesterone_prescribed,
  CAST(c.prescribed_on AS VARCHAR) AS prescribed_on,
  e.site,
  CASE WHEN pt.birth IS NULL OR TRY_CAST(e.assessed_on AS DATE) IS NULL THEN NULL
       ELSE CASE
         WHEN date_diff('year', pt.birth, TRY_CAST(e.assessed_on AS DATE)) < 20 THEN '<20'
         WHEN date_diff('year', pt.birth, TRY_CAST(e.assessed_on AS DATE)) < 25 THEN '20-24'
         WHEN date_diff('year', pt.birth, TRY_CAST(e.assessed_on AS DATE)) < 30 THEN '25-29'
         WHEN date_diff('year', pt.birth, TRY_CAST(e.assessed_on AS DATE)) < 35 THEN '30-34'
         WHEN date_diff('year', pt.birth, TRY_CAST(e.assessed_on AS DATE)) < 40 THEN '35-39'
         ELSE '40+' END END AS age_band,
  coalesce(json_extract_string(pt.eth, '$.valueCodeableConcept.coding[0].display'),
           json_extract_string(pt.eth, '$.valueCodeableConcept.text')) AS ethnicity,
  TRY_CAST(json_extract_string(pt.imd, '$.valueInteger') AS BIGINT) AS deprivation_quintile
FROM enc e
LEFT JOIN per_episode p USING (row_number)
LEFT JOIN history h USING (row_number)
LEFT JOIN care c USING (row_number)
LEFT JOIN pat pt ON pt.patient = e.patient
"""
    )
    con.raw_sql(
        f"CREATE OR REPLACE TABLE {name}_t AS SELECT * FROM {name}_facts ORDER BY row_number"
    )
    con.raw_sql(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {name}_t")
