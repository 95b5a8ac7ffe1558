"""Previous miscarriages recorded as a count of past pregnancy outcomes (our own synthetic records,
in the shapes public sources give them), and history codes of GP systems found in public lists.

The HL7 IPS "History of Pregnancy" section records each past outcome as an Observation with a
count (profile ObservationPregnancyOutcomeUvIps, code from the IPS "Pregnancies Summary" value set;
example `pregnancy-outcome-example`: status final, a LOINC code, subject, effectiveDateTime,
performer, ``valueQuantity = 1 '1'``, that is value 1 with the UCUM unit code "1"). LOINC 11614-5
"[#] Abortions.spontaneous" counts miscarriages; 11612-9 "[#] Abortions" counts every abortion,
induced ones too (only its 0 says anything of miscarriages); 11613-7 "[#] Abortions.induced" says
nothing of them. Before stop 22 none was read, so a woman whose only record of her previous
miscarriages was such a count was "needs information" on the card and in the audit, never
"offer". Used by `tests/integration/test_cds_real_counts.py` and `tests/audit/test_fhir_counts.py`.
"""

from __future__ import annotations

from typing import Any

from tests.integration.fhir_data import (
    LOINC,
    PATIENT_ID,
    SNOMED,
    bleeding,
    concept,
    condition,
    crl,
    iup,
    lmp,
)

UCUM = "http://unitsofmeasure.org"
CTV3 = "http://read.info/ctv3"
SPONTANEOUS = ("11614-5", "[#] Abortions.spontaneous")
ALL_ABORTIONS = ("11612-9", "[#] Abortions")
INDUCED = ("11613-7", "[#] Abortions.induced")
# her earlier pregnancies' record, written at a booking visit before this pregnancy
RECORDED = "2023-05-01"


def outcome_count(
    kind: tuple[str, str] = SPONTANEOUS, recorded: str | None = RECORDED, **value: Any
) -> dict[str, Any]:
    """An IPS pregnancy outcome Observation, as the IPS example shapes it (the value given)."""
    code, display = kind
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"outcome-{code}",
        "meta": {
            "profile": [
                "http://hl7.org/fhir/uv/ips/StructureDefinition/Observation-pregnancy-outcome-uv-ips"
            ]
        },
        "status": "final",
        "code": concept(LOINC, code, display),
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "performer": [{"reference": "Practitioner/midwife-1"}],
    }
    if recorded:
        res["effectiveDateTime"] = recorded
    res.update(value)
    return res


def counted(n: float) -> dict[str, Any]:
    """valueQuantity as the IPS example writes it: the UCUM unit code '1'."""
    return {"valueQuantity": {"value": n, "system": UCUM, "code": "1"}}


def history_panel(n: int, status: str = "final") -> dict[str, Any]:
    """A local "obstetric history" panel (an EHR's form, no standard code) giving the count as a
    component, as US Core's blood pressure gives its two values."""
    return {
        "resourceType": "Observation",
        "id": "obstetric-history",
        "status": status,
        "code": {"text": "Obstetric history"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": RECORDED,
        "component": [
            {"code": concept(LOINC, *SPONTANEOUS), "valueInteger": n},
            {"code": concept(LOINC, "11636-8", "[#] Births.live"), "valueInteger": 1},
        ],
    }


def bleeding_scanned_today(*history: dict[str, Any]) -> list[dict[str, Any]]:
    """Bleeding, an IUP seen today, dated: eligible once her previous miscarriages are known."""
    return [*history, bleeding(), lmp(), iup(), crl()]


def _loss(onset: str | None) -> dict[str, Any]:
    return condition("loss", "17369002", onset)


# name -> (her record, the number of previous miscarriages read, the decision on the card and in
# the audit). With no previous miscarriage and bleeding NG126 1.5.1 gives no progesterone.
CASES: dict[str, tuple[list[dict[str, Any]], int | None, str]] = {
    # counts that are read
    "ips-spontaneous-2": (bleeding_scanned_today(outcome_count(**counted(2))), 2, "offer"),
    "integer-1": (bleeding_scanned_today(outcome_count(valueInteger=1)), 1, "offer"),
    "unit-hash": (
        bleeding_scanned_today(outcome_count(valueQuantity={"value": 3, "unit": "{#}"})),
        3,
        "offer",
    ),
    "no-unit": (bleeding_scanned_today(outcome_count(valueQuantity={"value": 1})), 1, "offer"),
    "undated-1": (bleeding_scanned_today(outcome_count(recorded=None, valueInteger=1)), 1, "offer"),
    "zero": (bleeding_scanned_today(outcome_count(**counted(0))), 0, "do_not_offer"),
    "panel-component-2": (bleeding_scanned_today(history_panel(2)), 2, "offer"),
    # a 0 gives way to a dated loss before this pregnancy, and to a loss that cannot be placed
    "zero-then-dated-loss": (
        bleeding_scanned_today(
            outcome_count(recorded="2020-01-10", valueInteger=0), _loss("2022-06-01")
        ),
        1,
        "offer",
    ),
    "zero-and-undated-loss": (
        bleeding_scanned_today(outcome_count(valueInteger=0), _loss(None)),
        None,
        "needs_information",
    ),
    # a count of 2 beside a dated loss it may already hold: 2, never 3 (no sum)
    "two-and-dated-loss": (
        bleeding_scanned_today(outcome_count(valueInteger=2), _loss("2022-06-01")),
        2,
        "offer",
    ),
    # all abortions: 0 is no miscarriage; any other number cannot tell
    "all-abortions-0": (
        bleeding_scanned_today(outcome_count(ALL_ABORTIONS, **counted(0))),
        0,
        "do_not_offer",
    ),
    "all-abortions-2": (
        bleeding_scanned_today(outcome_count(ALL_ABORTIONS, **counted(2))),
        None,
        "needs_information",
    ),
    "all-abortions-0-and-spontaneous-1": (
        bleeding_scanned_today(
            outcome_count(ALL_ABORTIONS, valueInteger=0), outcome_count(valueInteger=1)
        ),
        1,
        "offer",
    ),
    "induced-0": (
        bleeding_scanned_today(outcome_count(INDUCED, valueInteger=0)),
        None,
        "needs_information",
    ),
    # counts that cannot be read: named, the number stays unknown
    "decimal": (bleeding_scanned_today(outcome_count(**counted(1.5))), None, "needs_information"),
    "negative": (bleeding_scanned_today(outcome_count(valueInteger=-1)), None, "needs_information"),
    "absurd": (bleeding_scanned_today(outcome_count(**counted(1e300))), None, "needs_information"),
    "over-30": (bleeding_scanned_today(outcome_count(valueInteger=31)), None, "needs_information"),
    "weeks": (
        bleeding_scanned_today(outcome_count(valueQuantity={"value": 2, "unit": "wk"})),
        None,
        "needs_information",
    ),
    "bound": (
        bleeding_scanned_today(outcome_count(valueQuantity={"value": 2, "comparator": ">="})),
        None,
        "needs_information",
    ),
    "no-value": (
        bleeding_scanned_today(
            outcome_count(
                dataAbsentReason=concept(
                    "http://terminology.hl7.org/CodeSystem/data-absent-reason", "unknown"
                )
            )
        ),
        None,
        "needs_information",
    ),
    "recorded-after-today": (
        bleeding_scanned_today(outcome_count(recorded="2024-03-10", valueInteger=2)),
        None,
        "needs_information",
    ),
    "entered-in-error": (
        bleeding_scanned_today(outcome_count(status="entered-in-error", valueInteger=2)),
        None,
        "needs_information",
    ),
    "cancelled": (
        bleeding_scanned_today(outcome_count(status="cancelled", valueInteger=2)),
        None,
        "needs_information",
    ),
    "panel-entered-in-error": (
        bleeding_scanned_today(history_panel(2, status="entered-in-error")),
        None,
        "needs_information",
    ),
    # GP history codes from the GM SDE antenatal code set (CTV3, SNOMED CT)
    "ctv3-history-of-miscarriage": (
        bleeding_scanned_today(
            {**condition("hist", "x", "2021-02-01"), "code": concept(CTV3, "1542.")}
        ),
        1,
        "offer",
    ),
    "ctv3-recurrent-aborter": (
        bleeding_scanned_today(
            {**condition("hist", "x", "2021-02-01"), "code": concept(CTV3, "XE1UA")}
        ),
        2,
        "offer",
    ),
    "snomed-antenatal-care-recurrent-aborter": (
        bleeding_scanned_today(
            {**condition("hist", "x", "2021-02-01"), "code": concept(SNOMED, "169580009")}
        ),
        2,
        "offer",
    ),
}
# what the card names for a count that is not read (a part of the problem's message)
NAMED: dict[str, str] = {
    "decimal": "number of miscarriages is not a whole number from 0 to 30",
    "negative": "number of miscarriages is not a whole number from 0 to 30",
    "absurd": "number of miscarriages is not a whole number from 0 to 30",
    "over-30": "number of miscarriages is not a whole number from 0 to 30",
    "weeks": "number of miscarriages is not a count",
    "bound": "number of miscarriages is a bound",
    "no-value": "number of miscarriages has no value",
    "all-abortions-2": "cannot say how many were miscarriages",
    "recorded-after-today": "dated after the assessment date",
}
