"""A previous ectopic pregnancy on her record (our own synthetic records), for the reading's tests
on every engine (`tests/records/test_previous_ectopic.py`: the card's Python, DuckDB; Spark: the
read scenario ``previous-ectopic`` of `tests/audit/test_spark_reading_agreement.py`) and the
referral's (`tests/integration/test_cds_previous_ectopic.py`).

NG126 1.3 names a previous ectopic pregnancy as a risk factor that rules out community management
of a woman under 6 weeks who is bleeding without pain (the referral section sends her to the early
pregnancy unit: `earlypath.guideline.referral`). Before stop 27 the reading never gave
`previous_ectopic`, so the referral asked for it even when her record held "Ectopic pregnancy,
2019". Now an ectopic pregnancy on record (a Condition, a scan finding, a scan report's
conclusion) dated before this pregnancy, or dated to a month or a year only whose span ended
before it, is a previous one: True. Nothing else is "no": a record without one is Unknown (she
may have had one elsewhere), and so is one that is, or may be, this pregnancy's (stop 26's span
rules), one refuted or entered in error, and one with no date.

Every woman is assessed on 2024-03-04 (`TODAY`), bleeding, her LMP 2024-02-01 (4+4: under 6
weeks, no scan), so the referral turns on `previous_ectopic` once her pain and haemodynamic state
are recorded.
"""

from __future__ import annotations

from typing import Any

from tests.integration.fhir_data import SNOMED, bleeding, concept, condition, lmp, observation
from tests.records.scan_shapes import scan_report

ECTOPIC = "34801009"  # Ectopic pregnancy (disorder): PRIMIS, GM SDE lists
US_CONFIRMS_ECTOPIC = {"coding": [{"system": SNOMED, "code": "370382007"}]}
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LMP_UNDER_SIX_WEEKS = "2024-02-01"  # 32 days on 2024-03-04
IN_2019 = "2019-05-02"


def _status(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system}", "code": code}]}


REFUTED = _status("condition-ver-status", "refuted")
ENTERED_IN_ERROR = _status("condition-ver-status", "entered-in-error")
RESOLVED = _status("condition-clinical", "resolved")


def ectopic(rid: str = "e1", onset: str | None = IN_2019, **extra: Any) -> dict[str, Any]:
    """An ectopic pregnancy Condition (a GP problem, a hospital diagnosis)."""
    return condition(rid, ECTOPIC, onset, **extra)


def bleeding_under_six_weeks(*history: dict[str, Any]) -> list[dict[str, Any]]:
    """Her record: the history given, bleeding now, her LMP 4+4 weeks ago, no scan yet."""
    return [*history, bleeding(), lmp(LMP_UNDER_SIX_WEEKS)]


def _icd10_ectopic() -> dict[str, Any]:
    out = ectopic()
    out["code"] = concept(ICD10, "O00.1", "Tubal pregnancy")
    return out


# name -> (her record, `previous_ectopic` read: True, or None for Unknown; never False)
CASES: dict[str, tuple[list[dict[str, Any]], bool | None]] = {
    # an ectopic pregnancy before this one: a previous ectopic
    "condition-2019": (bleeding_under_six_weeks(ectopic()), True),
    "condition-resolved-2019": (bleeding_under_six_weeks(ectopic(clinicalStatus=RESOLVED)), True),
    "condition-icd10-2019": (bleeding_under_six_weeks(_icd10_ectopic()), True),
    "condition-year-2019": (bleeding_under_six_weeks(ectopic(onset="2019")), True),
    "condition-recorded-month-2019": (
        bleeding_under_six_weeks(ectopic(onset=None, recordedDate="2019-06")),
        True,
    ),
    "condition-period-2019": (
        bleeding_under_six_weeks(ectopic(onset=None, onsetPeriod={"end": "2019-05"})),
        True,
    ),
    "scan-finding-2019": (
        bleeding_under_six_weeks(observation("e1", SNOMED, ECTOPIC, IN_2019)),
        True,
    ),
    "report-conclusion-2019": (
        bleeding_under_six_weeks(
            scan_report(conclusion=US_CONFIRMS_ECTOPIC, effectiveDateTime=IN_2019)
        ),
        True,
    ),
    # this pregnancy's ectopic beside it does not hide it
    "2019-and-this-pregnancy": (
        bleeding_under_six_weeks(ectopic(), ectopic("e2", "2024-02-20")),
        True,
    ),
    # no LMP, no scan: this pregnancy cannot be dated, but 2019 is before any pregnancy of today
    "condition-2019-undated-pregnancy": ([ectopic(), bleeding()], True),
    # none on record: unknown (she may have had one elsewhere), never "no"
    "none": (bleeding_under_six_weeks(), None),
    # no date at all (stop 26: it may be this pregnancy's): unknown
    "condition-undated": (bleeding_under_six_weeks(ectopic(onset=None)), None),
    # refuted, entered in error: not read
    "condition-refuted-2019": (bleeding_under_six_weeks(ectopic(verificationStatus=REFUTED)), None),
    "condition-entered-in-error-2019": (
        bleeding_under_six_weeks(ectopic(verificationStatus=ENTERED_IN_ERROR)),
        None,
    ),
    # a scan finding recorded as not seen says nothing
    "scan-finding-absent-2019": (
        bleeding_under_six_weeks(observation("e1", SNOMED, ECTOPIC, IN_2019, valueBoolean=False)),
        None,
    ),
    # this pregnancy's, or one that may be: not a previous one
    "this-pregnancy": (bleeding_under_six_weeks(ectopic(onset="2024-02-20")), None),
    "this-year": (bleeding_under_six_weeks(ectopic(onset="2024")), None),
    "month-of-lmp": (bleeding_under_six_weeks(ectopic(onset="2024-02")), None),
    # recorded after the assessment (an export read later): not known then
    "after-the-assessment": (bleeding_under_six_weeks(ectopic(onset="2024-03-20")), None),
}
# the cases of the referral's vignettes (NG126 1.3): read (a), none (b), undated (c), refuted (d)
REFERRAL_CASES = ("condition-2019", "none", "condition-undated", "condition-refuted-2019")
