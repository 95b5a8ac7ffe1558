"""Scan results as hospitals send them (issue 12, real records; stop 19), for the CDS service
(`tests/integration/test_cds_real_scans.py`) and the FHIR audit (`tests/audit/test_fhir_real_scans.py`).

Each woman is eligible for progesterone but for the scan that shows where the pregnancy is: she
has bleeding, a previous miscarriage, an LMP dating her to 7+0 and a crown-rump length today
(`tests.integration.fhir_data.eligible_resources`), and the intrauterine finding (SNOMED CT
370383002, as the value of a generic code, or a panel's component) varies: its status (FHIR R4
observation-status, https://hl7.org/fhir/R4/valueset-observation-status.html), how it is dated
(FHIR R4 Observation.effective[x] and issued), or a scan report (FHIR R4 DiagnosticReport) that
holds the finding in its conclusion or its contained Observations only. Progesterone needs a
scan-confirmed intrauterine pregnancy: a result that is not yet verified (preliminary), withdrawn
or in error never confirms one; an amended or corrected one does.
"""

from __future__ import annotations

from typing import Any

from tests.integration.fhir_data import (
    LOINC,
    PATIENT_ID,
    SNOMED,
    condition,
    day,
    eligible_resources,
    observation,
)
from tests.records.real_shapes import component, us_panel

OFFER, NO_OFFER, NEEDS_SCAN = "offer", "do_not_offer", "needs_information"
# SNOMED CT 65727000 Intrauterine pregnancy, 34801009 Ectopic pregnancy, 17369002 Miscarriage
# (the packaged value sets `intrauterine_pregnancy`, `ectopic_pregnancy`, `miscarriage_event`)
IUP_CONCEPT = {
    "coding": [{"system": SNOMED, "code": "65727000", "display": "Intrauterine pregnancy"}]
}
MISCARRIAGE_CONCEPT = {"coding": [{"system": SNOMED, "code": "17369002", "display": "Miscarriage"}]}
# LOINC 59776-5 Procedure findings Narrative: a generic code whose value is the finding
FINDINGS = (LOINC, "59776-5")
# LOINC 11525-3 US Pelvis Fetus for pregnancy (the obstetric ultrasound report's code)
US_REPORT = {"coding": [{"system": LOINC, "code": "11525-3", "display": "US Pelvis Fetus"}]}


def iup_with(status: str = "final", rid: str = "iup", on: str | None = None, **dated: Any) -> dict:
    """The intrauterine finding with this status: dated ``on`` (today) or by ``dated`` alone."""
    out = observation(rid, SNOMED, "370383002", None if dated else (on or day()), **dated)
    out["status"] = status
    return out


def scanned(*findings: dict[str, Any]) -> list[dict[str, Any]]:
    """Her record with these scan findings in place of the final one of today."""
    return [*(r for r in eligible_resources() if r["id"] != "iup"), *findings]


def _preliminary(resource: dict[str, Any]) -> dict[str, Any]:
    return {**resource, "status": "preliminary"}


# shape -> (her record, the progesterone decision it must get)
SCAN_STATUS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "final": (scanned(iup_with("final")), OFFER),
    "amended": (scanned(iup_with("amended")), OFFER),
    "corrected": (scanned(iup_with("corrected")), OFFER),
    # fixed (stop 19): a preliminary result was read as final, so it confirmed the pregnancy
    "preliminary": (scanned(iup_with("preliminary")), NEEDS_SCAN),
    "preliminary-value-of-generic-code": (
        scanned(
            _preliminary(observation("us", *FINDINGS, day(), valueCodeableConcept=IUP_CONCEPT))
        ),
        NEEDS_SCAN,
    ),
    "preliminary-panel-component": (
        scanned(
            us_panel(
                [
                    component(
                        "https://trust.example/results", "SAC-LOC", valueCodeableConcept=IUP_CONCEPT
                    )
                ],
                on=day(),
                status="preliminary",
            )
        ),
        NEEDS_SCAN,
    ),
    "registered": (scanned(iup_with("registered")), NEEDS_SCAN),
    "cancelled": (scanned(iup_with("cancelled")), NEEDS_SCAN),
    "entered-in-error": (scanned(iup_with("entered-in-error")), NEEDS_SCAN),
    "unknown": (scanned(iup_with("unknown")), NEEDS_SCAN),
    # a pregnancy confirmed a week ago stays confirmed by a preliminary scan today
    "final-then-preliminary": (
        scanned(iup_with("final", "iup-1", day(-7)), iup_with("preliminary", "iup-2")),
        OFFER,
    ),
    # a preliminary ectopic finding still counts: it only holds an offer back
    "final-then-preliminary-ectopic": (
        scanned(
            iup_with("final", "iup-1", day(-7)),
            _preliminary(observation("ect", SNOMED, "34801009", day())),
        ),
        NO_OFFER,
    ),
}

# shape -> (her record, the decision): an intrauterine pregnancy on her problem list (a GP system
# may keep a finding as a Condition), not a scan result: not read as a scan (held; whether a
# Condition 370383002 "Antenatal ultrasound confirms intrauterine pregnancy" may stand for the scan
# is a clinician question)
SCAN_AS_CONDITION: dict[str, tuple[list[dict[str, Any]], str]] = {
    "condition-intrauterine-pregnancy": (
        scanned(condition("c-iup", "65727000", day())),
        NEEDS_SCAN,
    ),
    "condition-ultrasound-confirms-iup": (
        scanned(condition("c-iup", "370383002", day())),
        NEEDS_SCAN,
    ),
}

# shape -> (her record, the decision): the finding dated as FHIR R4 allows (held)
SCAN_DATING: dict[str, tuple[list[dict[str, Any]], str]] = {
    "effective-instant": (scanned(iup_with(effectiveInstant=f"{day()}T09:30:00.000Z")), OFFER),
    "period-start-only": (
        scanned(iup_with(effectivePeriod={"start": f"{day()}T09:30:00Z"})),
        OFFER,
    ),
    "period-end-only": (scanned(iup_with(effectivePeriod={"end": f"{day()}T09:50:00Z"})), OFFER),
    "issued-only": (scanned(iup_with(issued=f"{day()}T11:02:00.000+00:00")), OFFER),
    "undated": (scanned(iup_with(meta={"lastUpdated": f"{day()}T11:02:00Z"})), NEEDS_SCAN),
}


def scan_report(
    *,
    conclusion: dict | list[dict] | None = None,
    contained: list[dict] | None = None,
    status: str = "final",
    rid: str = "us-report",
    **dated: Any,
) -> dict:
    """An obstetric ultrasound report (FHIR R4 DiagnosticReport) of today, or dated by
    ``dated`` alone: its conclusion coded (one concept or several), or its findings as contained
    Observations its `result` refers to."""
    out: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": status,
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}
        ],
        "code": US_REPORT,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "conclusion": "Single intrauterine pregnancy.",
    }
    out.update(dated or {"effectiveDateTime": f"{day()}T09:30:00Z", "issued": f"{day()}T11:02:00Z"})
    if conclusion is not None:
        out["conclusionCode"] = conclusion if isinstance(conclusion, list) else [conclusion]
    if contained:
        out["contained"] = contained
        out["result"] = [{"reference": f"#{c['id']}"} for c in contained]
    return out


def _contained_iup() -> dict[str, Any]:
    out = iup_with(rid="c-iup")
    del out["subject"]  # a contained resource takes its container's subject
    return out


def _confirmed_then(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Her record: a scan that confirmed the pregnancy a week ago, then this report today."""
    return scanned(iup_with("final", "iup-1", day(-7)), report)


# SNOMED CT 370382007 Antenatal ultrasound confirms ectopic pregnancy, 16607004 Missed
# miscarriage, 281307002 Uncertain viability of pregnancy (in the packaged value sets
# `ectopic_pregnancy`, `miscarriage_event`, `uncertain_viability`)
ECTOPIC_CONCEPT = {"coding": [{"system": SNOMED, "code": "370382007"}]}
MISSED_CONCEPT = {
    "coding": [{"system": SNOMED, "code": "16607004", "display": "Missed miscarriage"}]
}
UNCERTAIN_CONCEPT = {"coding": [{"system": SNOMED, "code": "281307002"}]}
# A lab's hCG report: its own code (LOINC 21198-7 hCG) names the report, not a result
HCG_REPORT = {"coding": [{"system": LOINC, "code": "21198-7"}]}
# the case whose report is named as its contained findings are not read
CONTAINED_NAMED = "report-contained-observation"

# shape -> (her record, the decision). A scan report's coded conclusion is read as an
# Observation of that finding (fixed, stop 20: it was not read at all, so a report concluding a
# miscarriage after a confirmed scan gave an offer): a final, amended, corrected or appended
# report's intrauterine conclusion confirms the pregnancy; a preliminary or partial one does not
# (its miscarriage or ectopic still counts); a registered, cancelled or entered-in-error report is
# not read. Findings only inside the report (contained Observations) are not read: the scan stays
# unknown and the report is named (`REPORT_CONTAINED_MESSAGE`).
SCAN_REPORTS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "report-conclusion-code-only": (scanned(scan_report(conclusion=IUP_CONCEPT)), OFFER),
    "report-appended-conclusion": (
        scanned(scan_report(conclusion=IUP_CONCEPT, status="appended")),
        OFFER,
    ),
    "report-preliminary-conclusion": (
        scanned(scan_report(conclusion=IUP_CONCEPT, status="preliminary")),
        NEEDS_SCAN,
    ),
    "report-partial-conclusion": (
        scanned(scan_report(conclusion=IUP_CONCEPT, status="partial")),
        NEEDS_SCAN,
    ),
    "report-registered-conclusion": (
        scanned(scan_report(conclusion=IUP_CONCEPT, status="registered")),
        NEEDS_SCAN,
    ),
    "report-conclusion-dated-by-issued-only": (
        scanned(scan_report(conclusion=IUP_CONCEPT, issued=f"{day()}T11:02:00Z")),
        OFFER,
    ),
    "report-conclusion-undated": (
        scanned(scan_report(conclusion=IUP_CONCEPT, meta={"lastUpdated": f"{day()}T11:02:00Z"})),
        NEEDS_SCAN,
    ),
    # a conclusion that is not a list (one concept as an object): not read, named
    "report-conclusion-not-a-list": (
        scanned({**scan_report(), "conclusionCode": IUP_CONCEPT}),
        NEEDS_SCAN,
    ),
    "report-contained-observation": (
        scanned(scan_report(contained=[_contained_iup()])),
        NEEDS_SCAN,
    ),
    "report-concludes-miscarriage-after-confirmed-iup": (
        _confirmed_then(scan_report(conclusion=MISCARRIAGE_CONCEPT)),
        NO_OFFER,
    ),
    "report-concludes-missed-miscarriage-beside-iup": (
        _confirmed_then(scan_report(conclusion=[IUP_CONCEPT, MISSED_CONCEPT])),
        NO_OFFER,
    ),
    "preliminary-report-concludes-ectopic-after-confirmed-iup": (
        _confirmed_then(scan_report(conclusion=ECTOPIC_CONCEPT, status="preliminary")),
        NO_OFFER,
    ),
    # read as an Observation of uncertain viability is: the heartbeat that day is unknown (named);
    # the confirmed pregnancy stands (NG126 1.5.2 needs no heartbeat to start)
    "partial-report-concludes-uncertain-viability-after-confirmed-iup": (
        _confirmed_then(scan_report(conclusion=UNCERTAIN_CONCEPT, status="partial")),
        OFFER,
    ),
    "entered-in-error-report-concludes-miscarriage": (
        _confirmed_then(scan_report(conclusion=MISCARRIAGE_CONCEPT, status="entered-in-error")),
        OFFER,
    ),
    "cancelled-report-concludes-miscarriage": (
        _confirmed_then(scan_report(conclusion=MISCARRIAGE_CONCEPT, status="cancelled")),
        OFFER,
    ),
}
