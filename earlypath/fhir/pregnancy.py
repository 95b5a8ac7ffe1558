"""Is there a current pregnancy in the record, as of a day? (Which encounters are episodes.)

Evidence of a current pregnancy as of ``assessed_on`` is any of, dated within the 45 weeks up to
that day (the window the mapping places an LMP in; a record dated after the day was not known then):
- an LMP the mapping reads (`mapping._lmp`: its value in the window, not recorded after the day);
- a Condition coded as pregnancy (``pregnancy_condition``), an ectopic pregnancy or bleeding,
  not refuted or entered in error, and not abated before the day (a dated ``abatement[x]``; an
  undated end leaves it standing: unknown is not "ended");
- a miscarriage (``miscarriage_event``) on that very day (its onset or its recording): the
  presentation where it is diagnosed is judged, but a miscarriage ends the pregnancy, so it is no
  evidence of one at a later visit;
- an Observation with a usable status: a pregnancy status answered "pregnant"; an hCG result that
  is not negative (negative: false, an "absent" or "negative" answer, or below 5 IU/L); a
  gestational age; a crown-rump length; a scan finding (intrauterine or ectopic, as code or value);
  a bleeding finding;
- in the audit only, the encounter's own type (``pregnancy_encounter_type``: a prenatal visit).

A man's record (Patient.gender ``male``) is never judged, whatever it holds.

This is the one definition of "current pregnancy" in Python: the CDS patient-view service uses it
(`mapping.has_pregnancy_context`) and the audit's SQL (`earlypath.audit.fhir_flat._exclusion_sql`)
is written to give the same answer, held together by tests/audit/test_fhir_mapping_agrees.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from earlypath.fhir.codes import code_set
from earlypath.model.episode import MAX_LMP_WEEKS_BEFORE

__all__ = [
    "EXCLUDED_MALE",
    "EXCLUDED_NOT_PREGNANT",
    "HCG_NEGATIVE_BELOW",
    "HCG_UNITS",
    "PREGNANCY_CONDITION_SETS",
    "PREGNANCY_END_SETS",
    "PREGNANCY_OBSERVATION_SETS",
    "PREGNANCY_VALUE_SETS",
    "condition_evidence",
    "exclusion",
    "observation_evidence",
]

# The reasons an encounter is not an episode, as summary.json and the report name them.
EXCLUDED_NOT_PREGNANT = "no current pregnancy"
EXCLUDED_MALE = "male patient"

# Conditions whose code says she is (or was, in this window) pregnant. A history code
# (miscarriage_history) says nothing about now.
PREGNANCY_CONDITION_SETS = ("pregnancy_condition", "ectopic_pregnancy", "bleeding")
# A pregnancy that ends: evidence only on the day it began or was recorded.
PREGNANCY_END_SETS = ("miscarriage_event",)
# Observations whose code alone says a pregnancy was seen or measured.
PREGNANCY_OBSERVATION_SETS = (
    "gestational_age",
    "crown_rump_length",
    "intrauterine_pregnancy",
    "ectopic_pregnancy",
    "bleeding",
)
# Observations whose value says so (a generic "findings" code with the finding as its value).
PREGNANCY_VALUE_SETS = ("intrauterine_pregnancy", "ectopic_pregnancy")
# A serum hCG below 5 IU/L (= mIU/mL) is a negative result; other units are not compared.
HCG_NEGATIVE_BELOW = 5.0
HCG_UNITS = ("iu/l", "miu/ml", "[iu]/l", "m[iu]/ml")


def window(assessed_on: dt.date) -> tuple[dt.date, dt.date]:
    return assessed_on - dt.timedelta(weeks=MAX_LMP_WEEKS_BEFORE), assessed_on


def _in_window(day: dt.date | None, assessed_on: dt.date) -> bool:
    start, end = window(assessed_on)
    return day is not None and start <= day <= end


def _matches_any(concept: Any, names: Iterable[str]) -> bool:
    return concept is not None and any(code_set(name).matches(concept) for name in names)


def condition_evidence(
    condition: Any,
    day: dt.date | None,
    recorded: dt.date | None,
    abated: dt.date | None,
    assessed_on: dt.date,
) -> bool:
    """A Condition (not entered in error: the caller drops those) that shows a pregnancy.
    ``day`` is its onset[x] else recordedDate (`mapping._condition_day`), ``recorded`` its
    recordedDate, ``abated`` its abatementDateTime or abatementPeriod.start."""
    verification = condition.verificationStatus
    status = verification.coding[0].code if verification and verification.coding else None
    if status in ("refuted", "entered-in-error"):
        return False
    if _matches_any(condition.code, PREGNANCY_END_SETS) and assessed_on in (day, recorded):
        return True
    if not _matches_any(condition.code, PREGNANCY_CONDITION_SETS):
        return False
    if abated is not None and abated < assessed_on:
        return False
    return _in_window(day, assessed_on)


def hcg_negative(observation: Any) -> bool:
    """Does an hCG result say "not pregnant"? Anything else (no value, a value in another unit,
    a positive or unreadable one) does not."""
    if observation.valueBoolean is not None:
        return observation.valueBoolean is False
    value = observation.valueCodeableConcept
    if value is not None:
        return _matches_any(value, ("absent", "negative"))
    q = observation.valueQuantity
    if q is None or q.value is None:
        return False
    unit = str(q.code or q.unit or "").strip(" \t\n\r\x0b\x0c").lower()
    if unit not in HCG_UNITS:
        return False
    below = float(q.value) < HCG_NEGATIVE_BELOW
    bound = q.comparator in ("<", "<=") and float(q.value) <= HCG_NEGATIVE_BELOW
    return below or bound


def observation_evidence(observation: Any, day: dt.date | None, assessed_on: dt.date) -> bool:
    """An Observation (with a usable status: the caller keeps only those) showing a pregnancy."""
    if not _in_window(day, assessed_on):
        return False
    code, value = observation.code, observation.valueCodeableConcept
    if _matches_any(code, PREGNANCY_OBSERVATION_SETS) or _matches_any(value, PREGNANCY_VALUE_SETS):
        return True
    if _matches_any(code, ("pregnancy_status",)):
        return _matches_any(value, ("pregnancy_status_pregnant",))
    if _matches_any(code, ("hcg",)):
        return not hcg_negative(observation)
    return False


def exclusion(gender: str | None, evidence: bool) -> str | None:
    """Why an encounter is not an episode (None: it is one)."""
    if gender == "male":
        return EXCLUDED_MALE
    return None if evidence else EXCLUDED_NOT_PREGNANT
