"""Hospital diagnoses coded in ICD-10 only (our own synthetic records, in the shapes hospital
systems send): WHO ICD-10 as NHS PAS and HES/SUS-derived feeds code them (dotted ``O00.1`` and
undotted ``O001``), the UK edition's system name on NHS England's terminology server
(``http://hl7.org/fhir/sid/icd-10-uk``), ICD-10's OID (CDA-converted records), and US EHRs'
ICD-10-CM with its longer codes, dotted (its undotted claim form and OID are not read). Used by the CDS service's and the audit's tests of the same
records (`tests/integration/test_cds_real_icd10.py`, `tests/audit/test_fhir_icd10.py`).

Before the value sets listed ICD-10, each was read as no record at all: an ectopic pregnancy or a
miscarriage today gave an offer of progesterone (the safety defect), and a previous miscarriage,
recurrent miscarriage or bleeding coded so left the decision ``needs_information``.
"""

from __future__ import annotations

from typing import Any

from tests.integration.fhir_data import (
    bleeding,
    condition,
    crl,
    day,
    iup,
    lmp,
    previous_miscarriage,
)

ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_UK = "http://hl7.org/fhir/sid/icd-10-uk"
ICD10_OID = "urn:oid:2.16.840.1.113883.6.3"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"


def diagnosis(rid: str, system: str, code: str, onset: str | None) -> dict[str, Any]:
    """A Condition whose only coding is this ICD-10 code (with no display, as PAS feeds send)."""
    res = condition(rid, "0", onset)
    res["code"] = {"coding": [{"system": system, "code": code}]}
    return res


# (system, code) of a diagnosis that stops an offer today: an ectopic pregnancy, a miscarriage
ECTOPIC_TODAY: dict[str, tuple[str, str]] = {
    "who-tubal-dotted": (ICD10, "O00.1"),
    "who-tubal-undotted": (ICD10, "O001"),
    "who-category-only": (ICD10, "O00"),
    "uk-edition-unspecified": (ICD10_UK, "O00.9"),
    "oid-ovarian": (ICD10_OID, "O002"),
    "cm-left-tubal": (ICD10_CM, "O00.102"),
    "cm-heterotopic": (ICD10_CM, "O00.111"),
    "cm-unspecified": (ICD10_CM, "O00.90"),
}
MISCARRIAGE_TODAY: dict[str, tuple[str, str]] = {
    "who-missed": (ICD10, "O02.1"),
    "who-complete-undotted": (ICD10, "O039"),
    "who-blighted-ovum": (ICD10, "O02.0"),
    "uk-edition-incomplete": (ICD10_UK, "O03.4"),
    "cm-sepsis-complete": (ICD10_CM, "O03.87"),
}
# a previous miscarriage, or a history of recurrent miscarriage, in place of the SNOMED one
PREVIOUS: dict[str, tuple[str, str]] = {
    "who-spontaneous": (ICD10, "O03.9"),
    "who-undotted": (ICD10, "O034"),
    "cm-missed": (ICD10_CM, "O02.1"),
    "who-habitual-aborter": (ICD10, "N96"),
    "who-pregnancy-care-habitual-aborter": (ICD10, "O26.2"),
    "cm-recurrent-pregnancy-loss-care": (ICD10_CM, "O26.21"),
}
# bleeding in this pregnancy, in place of the SNOMED one
BLEEDING: dict[str, tuple[str, str]] = {
    "who-threatened-abortion": (ICD10, "O20.0"),
    "who-haemorrhage-undotted": (ICD10, "O209"),
    "cm-threatened-abortion": (ICD10_CM, "O20.0"),
}
# left out on purpose (their meaning for our facts is ambiguous: questions for a clinician): a
# previous pregnancy loss coded so is not read, so the number of previous miscarriages stays
# unknown, never 0
LEFT_OUT_PREVIOUS: dict[str, tuple[str, str]] = {
    "who-unspecified-abortion": (ICD10, "O06.9"),
    "who-history-of-complications-of-pregnancy": (ICD10, "Z87.5"),
    "cm-history-of-other-complications": (ICD10_CM, "Z87.59"),
}


def scanned_today() -> list[dict[str, Any]]:
    """Eligible with SNOMED and LOINC codes (an offer): IUP, bleeding, a previous miscarriage."""
    return [previous_miscarriage(), bleeding(), lmp(), iup(), crl()]


def with_diagnosis_today(coded: tuple[str, str]) -> list[dict[str, Any]]:
    return [*scanned_today(), diagnosis("dx-today", *coded, day())]


def with_previous(coded: tuple[str, str]) -> list[dict[str, Any]]:
    return [diagnosis("mc1", *coded, "2022-06-01"), bleeding(), lmp(), iup(), crl()]


def with_bleeding(coded: tuple[str, str]) -> list[dict[str, Any]]:
    return [previous_miscarriage(), diagnosis("bleed", *coded, day(-1)), lmp(), iup(), crl()]


# GP systems' Read v2 (5-character concept, or with its 2-character term id) and CTV3 codes
READ_V2 = "http://read.info/readv2"
CTV3 = "http://read.info/ctv3"
READ_ECTOPIC_TODAY: dict[str, tuple[str, str]] = {
    "readv2-ectopic-concept": (READ_V2, "L03.."),
    "readv2-tubal-with-term": (READ_V2, "L031.00"),
    "ctv3-ruptured-tubal": (CTV3, "L0311"),
}
READ_MISCARRIAGE_TODAY: dict[str, tuple[str, str]] = {
    "readv2-missed-with-term": (READ_V2, "L02..00"),
    "readv2-incomplete-concept": (READ_V2, "L041."),
    "ctv3-miscarriage": (CTV3, "XE0xY"),
}
# a GP system's recurrent miscarriage (at least 2) and bleeding in early pregnancy, in Read v2
# (with its term id, or the 5-character concept) and CTV3 (stop 18; before, each was read as no
# record: the count or the bleeding stayed unknown)
READ_PREVIOUS: dict[str, tuple[str, str]] = {
    "readv2-pregnancy-care-habitual-aborter": (READ_V2, "L163300"),
    "readv2-antenatal-care-recurrent-aborter-concept": (READ_V2, "6232."),
}
READ_BLEEDING: dict[str, tuple[str, str]] = {
    "readv2-threatened-abortion-with-term": (READ_V2, "L100.00"),
    "readv2-threatened-abortion-concept": (READ_V2, "L100."),
    "readv2-bleeding-in-early-pregnancy-synonym": (READ_V2, "L10y.11"),
    "ctv3-early-pregnancy-haemorrhage": (CTV3, "L10z."),
}
# left out on purpose (questions for a clinician): "[V]Pregnancy with history of abortion" (an
# abortion of any kind, induced included); "(Inevitable abortion) or (early pregnancy
# haemorrhage NOS)" (a loss, or bleeding with the pregnancy continuing?)
READ_LEFT_OUT_PREVIOUS: dict[str, tuple[str, str]] = {
    "readv2-pregnancy-with-history-of-abortion": (READ_V2, "ZV23200"),
}
READ_LEFT_OUT_BLEEDING: dict[str, tuple[str, str]] = {
    "readv2-inevitable-abortion-or-haemorrhage-nos": (READ_V2, "L10zz00"),
}
