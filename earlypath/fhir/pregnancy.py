"""Is there a current pregnancy in the record, as of a day? (Which encounters are episodes.)

Evidence of a current pregnancy as of ``assessed_on`` is any of, dated within the 45 weeks up to
that day (the window the mapping places an LMP in; a record dated after the day was not known then):
- an LMP the reading gives (its value in the window, not recorded after the day);
- a Condition coded as pregnancy (``pregnancy_condition``), an ectopic pregnancy or bleeding,
  not refuted or entered in error, and not abated before the day (a dated ``abatement[x]``; an
  undated end leaves it standing: unknown is not "ended");
- a miscarriage (``miscarriage_event``) on that very day (its onset or its recording): the
  presentation where it is diagnosed is judged, but a miscarriage ends the pregnancy, so it is no
  evidence of one at a later visit;
- an Observation with a usable status: a pregnancy status answered "pregnant"; an hCG result that
  is not negative (negative: false, an "absent" or "negative" answer, or below 5 IU/L; with no
  value at all, an interpretation NEG or ND); a
  gestational age; a crown-rump length; a scan finding (intrauterine or ectopic, as code or value);
  a bleeding finding;
- in the audit only, the encounter's own type (``pregnancy_encounter_type``: a prenatal visit).

A later "not pregnant" ends what came before it. A record that she is not pregnant is a pregnancy
status answered "not pregnant" (``not_pregnant``: LOINC LA26683-5, SNOMED 60001007), a negative
hCG (as above), or the SNOMED "not pregnant" finding as an Observation's code (present, or with no
value) or a Condition's (not refuted or entered in error). As a clinician reads a chart, the
latest dated evidence up to ``assessed_on`` decides:
- evidence dated before the latest such record (a day after the day; for a Condition recorded
  after its onset, its recordedDate) is of a pregnancy that is over and shows nothing now; an
  LMP recorded before it, or a crown-rump length measured before it, dates nothing either (the
  LMP is reported: it is not this pregnancy's);
- on the same day the order is unknown: the pregnancy is kept (a missed eligible woman is the harm
  this product exists to prevent), and the "not pregnant" record is reported as a conflict;
- an undated "not pregnant" ends nothing (it cannot be placed after anything); one dated after the
  day was not known then; evidence dated after it starts a pregnancy again;
- a miscarriage, a delivery or a termination is not read as "not pregnant": a miscarriage is
  evidence on its own day only (above), and NG126's care after one (a pregnancy test three weeks
  on, anti-D) is still early-pregnancy care, so it does not end the evidence before it; the value
  sets hold no delivery or termination codes (a site's pregnancy Condition that ended carries an
  ``abatement[x]``, read above).

A man's record (Patient.gender ``male``) is never judged, whatever it holds. A record whose
Patient is not there (an Encounter whose ``subject`` names no Patient in the export) has her sex
and age unknown, never defaulted: it is judged on its pregnancy evidence as it stands (dropping it
could miss an eligible woman; the male exclusion cannot apply), and the reading reports it once,
on ``Encounter.subject`` (step ``patient_known``). A CDS patient-view call names its patient in
its context and her Patient is an optional prefetch (`earlypath.web.cds`): without it the call is
read the same way, with no problem on the card, since nothing the guideline decides reads her sex
or age.

This module documents "current pregnancy" and names its value sets and limits; the reading itself
is the one definition of record reading (`earlypath.records.definition`: the sign columns of the
``clinical`` rows and the ``not_pregnant_on`` and ``pregnancy_signs`` steps), run by the CDS patient-view service
(`mapping.has_pregnancy_context`) and the audit alike. `exclusion` says why an encounter is not
an episode.
"""

from __future__ import annotations

__all__ = [
    "EXCLUDED_MALE",
    "EXCLUDED_NOT_PREGNANT",
    "HCG_NEGATIVE_BELOW",
    "HCG_UNITS",
    "PREGNANCY_CONDITION_SETS",
    "PREGNANCY_END_SETS",
    "PREGNANCY_OBSERVATION_SETS",
    "PREGNANCY_VALUE_SETS",
    "exclusion",
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


def exclusion(gender: str | None, evidence: bool) -> str | None:
    """Why an encounter is not an episode (None: it is one)."""
    if gender == "male":
        return EXCLUDED_MALE
    return None if evidence else EXCLUDED_NOT_PREGNANT
