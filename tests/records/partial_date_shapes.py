"""Miscarriages dated to a month or a year only (our own synthetic records, in the shapes public
sources give them), for the card's and the audit's tests of the same shapes
(`tests/integration/test_cds_partial_dates.py`, `tests/audit/test_fhir_partial_dates.py`, and the
scenario ``partial-dates`` of `tests/audit/test_spark_agreement.py`).

FHIR R4 `date` and `dateTime` are a year, a year and month, or a full date (the XML Schema types
gYear, gYearMonth and date: HL7 FHIR R4 datatypes), so ``"onsetDateTime": "2019"`` or ``"2019-06"``
is a valid record; HL7's vital records library keeps its partial-date extension for what these
cannot say, and its notes say a date known to the year only is written "2022" (`HL7/vr-common-
library`, `input/fsh/extensions/ExtensionPartialDateTimeVitalRecords.fsh`). UK GP system
interfaces hand out partial dates ("a full or partial date ... YYYY, YYYYMM or YYYYMMDD", as
public integration notes on EMIS, TPP and Vision feeds quote a supplier's documentation), and GP
Connect sends coded data a clinician did not file as a problem, allergy, medication... as an
Observation ("uncategorised data will always be contained in an Observation profile":
`nhsconnect/gpconnect`, `pages/accessrecord_structured/
accessrecord_structured_development_uncategorisedData_guidance.md`), dated by `effectiveDateTime`.

Before stop 24 a miscarriage with such a date was "no usable date": a woman whose only record of
her previous miscarriage was "Miscarriage, 2019" was `needs_information` on the card and in the
audit, never "offer" (an eligible woman the audit could not count); and a miscarriage dated to a
month of this pregnancy ("2024-02", her LMP in January, assessed in March) was ignored: with her
earlier loss known she was offered progesterone after this pregnancy had miscarried. Now a span
that ended before this pregnancy is a previous miscarriage (at least one, never added to the dated
ones), a span wholly in this pregnancy up to the assessment day is a miscarriage of this
pregnancy, and any other span is named and not read.
"""

from __future__ import annotations

from typing import Any

from tests.integration.fhir_data import SNOMED, bleeding, condition, crl, iup, lmp, observation

MISCARRIAGE = "17369002"  # Miscarriage (disorder): Synthea, PRIMIS, GM SDE lists
HISTORY = "161744009"  # Past pregnancy history of miscarriage
REFUTED = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": "refuted",
        }
    ]
}
# her LMP is 2024-01-15, the assessment day 2024-03-04 (`tests.integration.fhir_data`)
NAMED = "miscarriage has no usable date (a full date is needed); ignored"


def bleeding_scanned_today(*history: dict[str, Any]) -> list[dict[str, Any]]:
    """Bleeding, an IUP seen today, dated by LMP and CRL: eligible once her history is known."""
    return [*history, bleeding(), lmp(), iup(), crl()]


def loss(rid: str, onset: str | None = None, **extra: Any) -> dict[str, Any]:
    """A miscarriage Condition (a GP problem or a hospital diagnosis)."""
    return condition(rid, MISCARRIAGE, onset, **extra)


def journal_loss(rid: str, effective: str) -> dict[str, Any]:
    """A miscarriage as GP Connect sends a journal entry not on the problem list: an Observation."""
    return observation(rid, SNOMED, MISCARRIAGE, effective)


# name -> (her record, previous miscarriages read, a miscarriage of this pregnancy read, the
# decision on the card and in the audit)
CASES: dict[str, tuple[list[dict[str, Any]], int | None, bool, str]] = {
    # a span that ended before this pregnancy: a previous miscarriage
    "year-month-before": (bleeding_scanned_today(loss("l1", "2022-06")), 1, False, "offer"),
    "year-before": (bleeding_scanned_today(loss("l1", "2022")), 1, False, "offer"),
    "month-before-lmp": (bleeding_scanned_today(loss("l1", "2023-12")), 1, False, "offer"),
    "recorded-year-month-only": (
        bleeding_scanned_today(loss("l1", recordedDate="2023-05")),
        1,
        False,
        "offer",
    ),
    "onset-period-end-month": (
        bleeding_scanned_today(loss("l1", onsetPeriod={"start": "2021", "end": "2022-02"})),
        1,
        False,
        "offer",
    ),
    "journal-observation-year-month": (
        bleeding_scanned_today(journal_loss("l1", "2021-09")),
        1,
        False,
        "offer",
    ),
    # a recorded "no previous miscarriage" gives way to a loss before this pregnancy
    "denied-then-loss-year": (
        bleeding_scanned_today(
            condition("h0", HISTORY, "2023-01-01", verificationStatus=REFUTED), loss("l1", "2022")
        ),
        1,
        False,
        "offer",
    ),
    # a loss of a known year beside the dated ones is not added to them: 2, not 3
    "two-dated-and-a-year": (
        bleeding_scanned_today(
            loss("l1", "2021-03-10"), loss("l2", "2022-06-01"), loss("l3", "2022")
        ),
        2,
        False,
        "offer",
    ),
    # a span wholly in this pregnancy, up to the assessment day: this pregnancy's miscarriage
    "month-of-this-pregnancy": (
        bleeding_scanned_today(loss("l0", "2022-06-01"), loss("l1", "2024-02")),
        1,
        True,
        "do_not_offer",
    ),
    "journal-observation-this-pregnancy": (
        bleeding_scanned_today(loss("l0", "2022-06-01"), journal_loss("l1", "2024-02")),
        1,
        True,
        "do_not_offer",
    ),
    "period-start-month-recorded-in-it": (
        bleeding_scanned_today(
            loss("l0", "2022-06-01"),
            loss("l1", onsetPeriod={"start": "2024-02"}, recordedDate="2024-02-20"),
        ),
        1,
        True,
        "do_not_offer",
    ),
    # spans that cannot be placed: named, not read
    "month-of-lmp": (
        bleeding_scanned_today(loss("l1", "2024-01")),
        None,
        False,
        "needs_information",
    ),
    "this-year": (bleeding_scanned_today(loss("l1", "2024")), None, False, "needs_information"),
    "period-start-only": (
        bleeding_scanned_today(loss("l1", onsetPeriod={"start": "2022"})),
        None,
        False,
        "needs_information",
    ),
    "refuted-year": (
        bleeding_scanned_today(loss("l1", "2022", verificationStatus=REFUTED)),
        None,
        False,
        "needs_information",
    ),
}
# the cases whose loss is named on the card and in the audit's problems
NAMED_CASES = ("month-of-lmp", "this-year", "period-start-only")

# Left (a strict expected failure on the card): a miscarriage dated to the month of the assessment
# only ("2024-03", assessed on 2024-03-04; her LMP in January). Its span runs past the assessment
# day, so it cannot be placed and is named, and with her earlier loss on record the card still
# offers progesterone. On the card a record there today cannot be later than today, and any day
# of the month up to today is in this pregnancy; but the audit reads an export made later, where
# it can be a loss after the audited encounter: one definition does not read it as this
# pregnancy's for one and not the other.
THIS_MONTH: dict[str, list[dict[str, Any]]] = {
    "miscarriage-this-month": bleeding_scanned_today(
        loss("l0", "2022-06-01"), loss("l1", "2024-03")
    ),
}
