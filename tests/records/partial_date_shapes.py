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

Stop 25: a span that meets this pregnancy's days up to the assessment day without lying wholly in
them ("2024-03" read on 2024-03-04, "2024" or "2024-01" with her LMP on 2024-01-15, a period with a
start only) may be this pregnancy's loss. It was named and not read, so beside a dated earlier loss
the card offered progesterone; now whether this pregnancy has miscarried is unknown
(`needs_information` naming ``miscarriage_diagnosed``), unless a miscarriage of this pregnancy is
read, and the record is named for a clinician to confirm.

Stop 26: a miscarriage with no date at all (only its code) may be this pregnancy's loss too:
unknown, as such a span, named. And an ectopic pregnancy dated to a month or a year only, or not
dated (a Condition, a scan finding): a span wholly in this pregnancy is read as a dated ectopic
is (on its span's last day: a scan after it reads over it, one within it does not), one that may
fall in this pregnancy makes the latest scan's location unknown (never "intrauterine":
progesterone needs information), and one wholly before this pregnancy is not of it. Before, each
was named and ignored, and beside today's intrauterine scan the card offered progesterone.
"""

from __future__ import annotations

from typing import Any

from earlypath.records.definition import ECTOPIC_MAY_BE_THIS_MESSAGE, LOSS_UNDATED_MESSAGE
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
MAY_BE_THIS = (
    "miscarriage is dated to a month or a year only, which may fall in this pregnancy: confirm "
    "whether this pregnancy has miscarried"
)
EARLIER = "2022-06-01"  # a dated loss before this pregnancy: her previous miscarriage is known
ECTOPIC = "34801009"  # Ectopic pregnancy (disorder)
UNDATED = LOSS_UNDATED_MESSAGE
ECTOPIC_MAY_BE_THIS = ECTOPIC_MAY_BE_THIS_MESSAGE


def bleeding_scanned_today(*history: dict[str, Any]) -> list[dict[str, Any]]:
    """Bleeding, an IUP seen today, dated by LMP and CRL: eligible once her history is known."""
    return [*history, bleeding(), lmp(), iup(), crl()]


def loss(rid: str, onset: str | None = None, **extra: Any) -> dict[str, Any]:
    """A miscarriage Condition (a GP problem or a hospital diagnosis)."""
    return condition(rid, MISCARRIAGE, onset, **extra)


def ectopic(rid: str, onset: str | None = None, **extra: Any) -> dict[str, Any]:
    """An ectopic pregnancy Condition (a hospital diagnosis, a GP problem)."""
    return condition(rid, ECTOPIC, onset, **extra)


def scanned_on(on: str, *history: dict[str, Any]) -> list[dict[str, Any]]:
    """Bleeding, an IUP seen on the day ``on`` (before today), dated by LMP and CRL."""
    return [*history, bleeding(), lmp(), iup(on), crl(on=on)]


def journal_loss(rid: str, effective: str) -> dict[str, Any]:
    """A miscarriage as GP Connect sends a journal entry not on the problem list: an Observation."""
    return observation(rid, SNOMED, MISCARRIAGE, effective)


# name -> (her record, previous miscarriages read, a miscarriage of this pregnancy read (None:
# it may be, unknown), the decision on the card and in the audit)
CASES: dict[str, tuple[list[dict[str, Any]], int | None, bool | None, str]] = {
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
    # spans that meet this pregnancy's days without lying wholly in them: it may be this
    # pregnancy's loss (unknown), whether her previous miscarriages are known or not
    "month-of-lmp": (
        bleeding_scanned_today(loss("l1", "2024-01")),
        None,
        None,
        "needs_information",
    ),
    "this-year": (bleeding_scanned_today(loss("l1", "2024")), None, None, "needs_information"),
    "period-start-only": (
        bleeding_scanned_today(loss("l1", onsetPeriod={"start": "2022"})),
        None,
        None,
        "needs_information",
    ),
    # the assessment's own month: on the card it cannot be later than today, but the audit reads
    # an export made later, where it may be a loss after the encounter; read alike: unknown
    "miscarriage-this-month": (
        bleeding_scanned_today(loss("l0", EARLIER), loss("l1", "2024-03")),
        1,
        None,
        "needs_information",
    ),
    # a year that began before this pregnancy and runs past the assessment day
    "this-year-beside-a-dated-loss": (
        bleeding_scanned_today(loss("l0", EARLIER), loss("l1", "2024")),
        1,
        None,
        "needs_information",
    ),
    # the month of her LMP (the 15th): its days before the LMP and after it
    "month-of-lmp-beside-a-dated-loss": (
        bleeding_scanned_today(loss("l0", EARLIER), loss("l1", "2024-01")),
        1,
        None,
        "needs_information",
    ),
    # her LMP on the month's first day: the month lies wholly in this pregnancy
    "month-of-lmp-from-its-first-day": (
        [loss("l0", EARLIER), loss("l1", "2024-01"), bleeding(), lmp("2024-01-01"), iup(), crl()],
        1,
        True,
        "do_not_offer",
    ),
    "journal-observation-this-month": (
        bleeding_scanned_today(loss("l0", EARLIER), journal_loss("l1", "2024-03")),
        1,
        None,
        "needs_information",
    ),
    # a miscarriage of this pregnancy already read (a full date) decides it
    "this-month-beside-a-dated-loss-of-this-pregnancy": (
        bleeding_scanned_today(
            loss("l0", EARLIER), loss("l1", "2024-03"), loss("l2", "2024-02-20")
        ),
        1,
        True,
        "do_not_offer",
    ),
    # wholly after the assessment day (an export read later: not known at the encounter)
    "month-after-the-assessment": (
        bleeding_scanned_today(loss("l0", EARLIER), loss("l1", "2024-04")),
        1,
        False,
        "offer",
    ),
    # stop 26: a loss with no date at all may be this pregnancy's (it was named and ignored:
    # beside the dated earlier loss, "offer")
    "undated-beside-a-dated-loss": (
        bleeding_scanned_today(loss("l0", EARLIER), loss("l1")),
        1,
        None,
        "needs_information",
    ),
    "undated-alone": (bleeding_scanned_today(loss("l1")), None, None, "needs_information"),
    # stop 26: an ectopic pregnancy with no full date that may be this pregnancy's: the latest
    # scan's location is unknown (it read "intrauterine": "offer")
    "ectopic-this-month": (
        bleeding_scanned_today(loss("l0", EARLIER), ectopic("e1", "2024-03")),
        1,
        False,
        "needs_information",
    ),
    "ectopic-this-year": (
        bleeding_scanned_today(loss("l0", EARLIER), ectopic("e1", "2024")),
        1,
        False,
        "needs_information",
    ),
    "ectopic-recorded-month-only": (
        bleeding_scanned_today(loss("l0", EARLIER), ectopic("e1", recordedDate="2024-02")),
        1,
        False,
        "needs_information",
    ),
    "ectopic-period-start-only": (
        bleeding_scanned_today(loss("l0", EARLIER), ectopic("e1", onsetPeriod={"start": "2024"})),
        1,
        False,
        "needs_information",
    ),
    "ectopic-undated": (
        bleeding_scanned_today(loss("l0", EARLIER), ectopic("e1")),
        1,
        False,
        "needs_information",
    ),
    "ectopic-scan-finding-this-month": (
        bleeding_scanned_today(loss("l0", EARLIER), observation("e1", SNOMED, ECTOPIC, "2024-03")),
        1,
        False,
        "needs_information",
    ),
    # a month wholly in this pregnancy: as a dated ectopic, on the month's last day; an
    # intrauterine scan within the month cannot be ordered against it (it was "offer") ...
    "ectopic-month-of-this-pregnancy-scan-within-it": (
        scanned_on("2024-02-10", loss("l0", EARLIER), ectopic("e1", "2024-02")),
        1,
        False,
        "do_not_offer",
    ),
    # ... and a scan after the month reads over it, as over a dated one
    "ectopic-month-of-this-pregnancy-scan-after-it": (
        bleeding_scanned_today(loss("l0", EARLIER), ectopic("e1", "2024-02")),
        1,
        False,
        "offer",
    ),
    # a year wholly before this pregnancy: a past ectopic, not this pregnancy's
    "ectopic-year-before": (
        bleeding_scanned_today(loss("l0", EARLIER), ectopic("e1", "2022")),
        1,
        False,
        "offer",
    ),
    # a refuted loss says nothing
    "refuted-year": (
        bleeding_scanned_today(loss("l1", "2022", verificationStatus=REFUTED)),
        None,
        False,
        "needs_information",
    ),
}
# the cases whose loss is named on the card and in the audit's problems as having no usable date
# (those whose loss may be this pregnancy's are named with `MAY_BE_THIS`)
NAMED_CASES = ("month-after-the-assessment",)
# the losses with no date at all, named with `UNDATED`
UNDATED_CASES = ("undated-beside-a-dated-loss", "undated-alone")
MAY_BE_THIS_CASES = (
    *(name for name, case in CASES.items() if case[2] is None and name not in UNDATED_CASES),
    # named too where a miscarriage of this pregnancy is read beside it
    "this-month-beside-a-dated-loss-of-this-pregnancy",
)
# the ectopic pregnancies that may be this pregnancy's (named with `ECTOPIC_MAY_BE_THIS`; the
# latest scan's location unknown), and the latest scan's location in every ectopic case
ECTOPIC_MAY_BE_THIS_CASES = (
    "ectopic-this-month",
    "ectopic-this-year",
    "ectopic-recorded-month-only",
    "ectopic-period-start-only",
    "ectopic-undated",
    "ectopic-scan-finding-this-month",
)
ECTOPIC_LATEST_LOCATION = {
    **dict.fromkeys(ECTOPIC_MAY_BE_THIS_CASES, "unknown"),
    "ectopic-month-of-this-pregnancy-scan-within-it": "ectopic",
    "ectopic-month-of-this-pregnancy-scan-after-it": "intrauterine",
    "ectopic-year-before": "intrauterine",
}
# the cases read as a previous ectopic pregnancy (stop 27: a span wholly before this pregnancy);
# in every other case `previous_ectopic` is Unknown, never "no"
PREVIOUS_ECTOPIC_CASES = ("ectopic-year-before",)
