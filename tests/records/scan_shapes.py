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

from earlypath.records import definition
from tests.integration.fhir_data import (
    LOINC,
    PATIENT_ID,
    SNOMED,
    condition,
    day,
    eligible_resources,
    observation,
)
from tests.records.real_shapes import (
    CRL_CM,
    RATE_150,
    UTROGESTAN_DMD,
    component,
    statement,
    us_panel,
)

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
    # stop 54 (HAZ-20 C20.73): "intra uterine" in words, asked about, negated or written out, is
    # never a scan-confirmed intrauterine pregnancy (only a code is): never an offer
    **{
        f"text-only-{shape}": (
            scanned(observation("us", *FINDINGS, day(), valueCodeableConcept={"text": text})),
            NEEDS_SCAN,
        )
        for shape, text in (
            ("query-intra-uterine", "? intra uterine pregnancy"),
            ("no-intra-uterine", "No intra-uterine pregnancy seen"),
            ("intra-uterine-en-dash", "Intra\u2013uterine pregnancy"),
        )
    },
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
# the case whose report holds a panel (its components read as an exported panel's, stop 23)
CONTAINED_PANEL = "report-contained-panel"


# An ultrasound as a PACS sends it (FHIR R4 ImagingStudy): that images were taken, with no
# report and no finding. Its procedure code is the obstetric report's and its words say
# "intrauterine pregnancy", yet an ImagingStudy holds no result: it never confirms a pregnancy;
# since stop 51 it is a scan not read from its day (`_IMAGES_ONLY_ROWS`), named.
def imaging_study(
    on: str | None = None,
    *,
    status: str | None = "available",
    procedure: dict[str, Any] | None = None,
    dated: bool = True,
    **changes: Any,
) -> dict[str, Any]:
    """The study of today (or ``on``); ``changes`` set elements (None: left out)."""
    out = {
        "resourceType": "ImagingStudy",
        "id": "us-study",
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "started": f"{on or day()}T09:30:00Z",
        "modality": [{"system": DICOM, "code": "US"}],
        "procedureCode": [procedure or US_REPORT],
        "description": "Early pregnancy scan: single intrauterine pregnancy",
        "numberOfSeries": 1,
        "numberOfInstances": 12,
        **changes,
    }
    if not dated:
        del out["started"]
    return {k: v for k, v in out.items() if v is not None}


DICOM = "http://dicom.nema.org/resources/ontology/DCM"


# SNOMED CT 306005 Ultrasonography of kidney: an ultrasound, not an obstetric one
RENAL_US = {"coding": [{"system": SNOMED, "code": "306005", "display": "Ultrasound of kidney"}]}
# A RIS's own examination codes (NICIP-style: a short local code and its name; stop 52)
RIS = "https://trust.example/ris/examination"


def ris(code: str, name: str) -> dict[str, Any]:
    return {"coding": [{"system": RIS, "code": code, "display": name}], "text": name}


# shape -> (her record, the decision). A scan report's coded conclusion is read as an
# Observation of that finding (fixed, stop 20: it was not read at all, so a report concluding a
# miscarriage after a confirmed scan gave an offer): a final, amended, corrected or appended
# report's intrauterine conclusion confirms the pregnancy; a preliminary or partial one does not
# (its miscarriage or ectopic still counts); a registered, cancelled or entered-in-error report is
# not read. Findings only inside the report (contained Observations): see `CONTAINED_REPORTS`.
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
    # the scan only as its images (stop 51): no finding, so no intrauterine pregnancy; a scan
    # was done, so its report is named as missing (the report to read), not "a scan"
    "imaging-study-only": (scanned(imaging_study()), NEEDS_SCAN),
}


def contained(
    rid: str, system: str, code: str, *, on: str | None = None, status: str = "final", **value: Any
) -> dict[str, Any]:
    """A finding as an ultrasound reporting system keeps it inside its report (the shape of HL7's
    R4 DiagnosticReport examples with contained results): no subject (a contained resource takes
    its container's), undated unless ``on`` (the report's date is then its own)."""
    out = observation(rid, system, code, on, **value)
    out["status"] = status
    del out["subject"]
    return out


def _her_record_without_scan(*reports: dict[str, Any]) -> list[dict[str, Any]]:
    """Her record with no scan finding of its own (no IUP, no CRL): only these reports."""
    return [*(r for r in eligible_resources() if r["id"] not in ("iup", "crl")), *reports]


_IUP = ("c-iup", SNOMED, "370383002")
_MISCARRIAGE = ("c-mc", SNOMED, "17369002")
# LOINC 11957-8 crown-rump length, 11948-7 fetal heart rate (the packaged value sets)
_CRL_95 = contained(
    "c-crl", LOINC, "11957-8", valueQuantity={"value": 9.5, "unit": "mm", "code": "mm"}
)
_RATE = contained(
    "c-fhr", LOINC, "11948-7", valueQuantity={"value": 150, "unit": "/min", "code": "/min"}
)
_PANEL = {
    **us_panel(
        [component("https://trust.example/results", "SAC-LOC", valueCodeableConcept=IUP_CONCEPT)]
    ),
    "id": "c-panel",
}
del _PANEL["subject"]


def _unreferred() -> dict[str, Any]:
    """A report holding the intrauterine finding that its result does not name."""
    out = scan_report(contained=[contained(*_IUP)])
    out["result"] = [{"reference": "#another"}]
    return out


def _text_only(**changes: Any) -> dict[str, Any]:
    """A scan report whose findings are only its text (no conclusionCode, no result)."""
    out = {**scan_report(), **changes}
    return {k: v for k, v in out.items() if v is not None}


# shape -> (her record, the decision). Findings kept inside the report (`contained` Observations
# its `result` refers to as "#id") are read as Observations of her record (stop 22: they were
# only named, so an intrauterine pregnancy, a CRL and a heartbeat in such a report gave "needs
# information", and a miscarriage in one after a confirmed scan gave an offer): by their own code,
# value, status and date, else the report's date; both statuses count (a preliminary or partial
# report's, or a preliminary Observation's, intrauterine finding confirms nothing; entered in
# error either way: not read). Not read, and named: a contained Observation the result does not
# refer to, a contained panel's components, and a scan report with findings only as text.
CONTAINED_REPORTS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "report-contained-observation": (
        scanned(scan_report(contained=[contained(*_IUP, on=day())])),
        OFFER,
    ),
    "report-contained-iup-crl-heart": (
        _her_record_without_scan(scan_report(contained=[contained(*_IUP), _CRL_95, _RATE])),
        OFFER,
    ),
    "report-undated-contained-dated": (
        scanned(
            scan_report(
                contained=[contained(*_IUP, on=day())], meta={"lastUpdated": f"{day()}T11:02:00Z"}
            )
        ),
        OFFER,
    ),
    "report-contained-dated-before-pregnancy": (
        scanned(scan_report(contained=[contained(*_IUP, on="2022-06-01")])),
        NEEDS_SCAN,
    ),
    "preliminary-report-contained-iup": (
        scanned(scan_report(contained=[contained(*_IUP)], status="preliminary")),
        NEEDS_SCAN,
    ),
    "partial-report-contained-iup": (
        scanned(scan_report(contained=[contained(*_IUP)], status="partial")),
        NEEDS_SCAN,
    ),
    "report-contained-preliminary-iup": (
        scanned(scan_report(contained=[contained(*_IUP, status="preliminary")])),
        NEEDS_SCAN,
    ),
    "report-contained-miscarriage-after-confirmed-iup": (
        _confirmed_then(scan_report(contained=[contained(*_MISCARRIAGE)])),
        NO_OFFER,
    ),
    "preliminary-report-contained-miscarriage-after-confirmed-iup": (
        _confirmed_then(scan_report(contained=[contained(*_MISCARRIAGE)], status="preliminary")),
        NO_OFFER,
    ),
    "entered-in-error-report-contained-miscarriage": (
        _confirmed_then(
            scan_report(contained=[contained(*_MISCARRIAGE)], status="entered-in-error")
        ),
        OFFER,
    ),
    "report-contained-entered-in-error-miscarriage": (
        _confirmed_then(
            scan_report(contained=[contained(*_MISCARRIAGE, status="entered-in-error")])
        ),
        OFFER,
    ),
    "report-contained-unreferred": (scanned(_unreferred()), NEEDS_SCAN),
    # fixed (stop 23): a contained panel's components were not read (named only)
    CONTAINED_PANEL: (scanned(scan_report(contained=[_PANEL])), OFFER),
    "scan-report-free-text-only": (scanned(_text_only()), NEEDS_SCAN),
    "scan-report-presented-form-only": (
        scanned(
            _text_only(
                conclusion=None,
                presentedForm=[{"contentType": "application/pdf", "data": "JVBERi0xLjQK"}],
            )
        ),
        NEEDS_SCAN,
    ),
}
# A contained Observation with an element of the wrong JSON type (stop 23: read as absent without
# a word; now named as an exported Observation's is): its code a string, its value a number, its
# date a number (then dated by the report), a panel's component's value a number.
_BAD_CODE = {**contained(*_IUP), "code": "370383002"}
_BAD_VALUE = {**_CRL_95, "valueQuantity": 9.5}
_BAD_DATE = {**contained(*_IUP), "effectiveDateTime": 20260101}
_BAD_COMPONENT = {
    **_PANEL,
    "component": [
        *_PANEL["component"],
        {**component(LOINC, "11957-8"), "valueQuantity": 9.5},
    ],
}
# A contained panel (stop 23: its components were not read): an early pregnancy scan panel whose
# components carry the location, the crown-rump length and the heartbeat, her only scan; the
# panel of a preliminary report confirms nothing.
_FULL_PANEL = {
    **us_panel(
        [
            component("https://trust.example/results", "SAC-LOC", valueCodeableConcept=IUP_CONCEPT),
            CRL_CM,
            RATE_150,
        ]
    ),
    "id": "c-panel",
}
del _FULL_PANEL["subject"]
CONTAINED_REPORTS |= {
    "report-contained-panel-iup-crl-heart": (
        _her_record_without_scan(scan_report(contained=[_FULL_PANEL])),
        OFFER,
    ),
    "preliminary-report-contained-panel": (
        scanned(scan_report(contained=[_PANEL], status="preliminary")),
        NEEDS_SCAN,
    ),
    "report-contained-code-not-an-object": (
        scanned(scan_report(contained=[_BAD_CODE])),
        NEEDS_SCAN,
    ),
    "report-contained-value-not-an-object": (
        _her_record_without_scan(scan_report(contained=[contained(*_IUP), _BAD_VALUE])),
        OFFER,
    ),
    "report-contained-date-not-text": (scanned(scan_report(contained=[_BAD_DATE])), OFFER),
    "report-contained-component-value-not-an-object": (
        scanned(scan_report(contained=[_BAD_COMPONENT])),
        OFFER,
    ),
}
# A scan report whose coded findings are none of them in a value set earlypath reads (stop 23:
# silent; now named): a local code for the yolk sac in its conclusion, or a contained
# Observation of it; not named when one finding beside it is read.
_YOLK_SAC = {"coding": [{"system": "https://trust.example/results", "code": "YOLK-SAC"}]}
_YOLK_SAC_SEEN = {
    **contained("c-ys", "https://trust.example/results", "YOLK-SAC"),
    "valueBoolean": True,
}
CONTAINED_REPORTS |= {
    "scan-report-conclusion-none-read": (scanned(scan_report(conclusion=_YOLK_SAC)), NEEDS_SCAN),
    "scan-report-contained-none-read": (
        scanned(scan_report(contained=[_YOLK_SAC_SEEN])),
        NEEDS_SCAN,
    ),
    "scan-report-one-finding-read": (
        scanned(scan_report(conclusion=_YOLK_SAC, contained=[contained(*_IUP), _YOLK_SAC_SEEN])),
        OFFER,
    ),
}
# the reports read in full: no problem names them
NOT_NAMED = (CONTAINED_PANEL, "report-contained-iup-crl-heart", "scan-report-one-finding-read")
_MALFORMED = definition.CONTAINED_MALFORMED_PREFIX
# shape -> the report named, and why (`earlypath.records.definition`)
CONTAINED_PROBLEMS = {
    "report-contained-unreferred": definition.REPORT_UNREFERRED_MESSAGE,
    "scan-report-free-text-only": definition.SCAN_TEXT_ONLY_MESSAGE,
    "scan-report-presented-form-only": definition.SCAN_TEXT_ONLY_MESSAGE,
    "scan-report-conclusion-none-read": definition.SCAN_NOTHING_READ_MESSAGE,
    "scan-report-contained-none-read": definition.SCAN_NOTHING_READ_MESSAGE,
    "report-contained-code-not-an-object": f"{_MALFORMED}code is not a JSON object; read as absent",
    "report-contained-value-not-an-object": (
        f"{_MALFORMED}valueQuantity is not a JSON object; read as absent"
    ),
    "report-contained-date-not-text": f"{_MALFORMED}effectiveDateTime is not text; read as absent",
    "report-contained-component-value-not-an-object": (
        f"{_MALFORMED}a component's valueQuantity is not a JSON object; read as absent"
    ),
}

# One finding given more than once must count once where counts matter. shape -> (her record,
# the step of the reading and its value): a previous miscarriage (2022) as a contained finding of
# two reports of that day (the report and its addendum), or also as an exported Observation and
# the report's conclusion (previous miscarriages count distinct days); a CRL both contained and
# exported (the day's length, one value).
_MC_DAY = {"effectiveDateTime": "2022-06-01T10:00:00Z"}


def _mc_report(rid: str, **extra: Any) -> dict[str, Any]:
    return scan_report(contained=[contained(*_MISCARRIAGE)], rid=rid, **_MC_DAY, **extra)


def _without_history(*resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(r for r in eligible_resources() if r["id"] != "mc1"), *resources]


COUNTED_ONCE: dict[str, tuple[list[dict[str, Any]], str, Any]] = {
    "miscarriage-in-two-reports-of-one-day": (
        _without_history(_mc_report("us-2022"), _mc_report("us-2022-addendum")),
        "previous_miscarriages",
        1,
    ),
    "miscarriage-contained-exported-and-concluded": (
        _without_history(
            _mc_report("us-2022", conclusion=MISCARRIAGE_CONCEPT),
            observation("mc-obs", SNOMED, "17369002", "2022-06-01"),
        ),
        "previous_miscarriages",
        1,
    ),
    "crl-contained-and-exported": (
        [*eligible_resources(), scan_report(contained=[_CRL_95])],
        "dating_crl_mm",
        9.5,
    ),
    # the length read from a contained panel's component (0.95 cm)
    "crl-in-contained-panel-only": (
        _her_record_without_scan(scan_report(contained=[_FULL_PANEL])),
        "dating_crl_mm",
        9.5,
    ),
    "crl-contained-only": (
        _her_record_without_scan(scan_report(contained=[contained(*_IUP), _CRL_95])),
        "dating_crl_mm",
        9.5,
    ),
}

# every case of the decisions' tests: the counted-once women are all eligible (an offer)
CONTAINED_CASES: dict[str, tuple[list[dict[str, Any]], str]] = {
    **CONTAINED_REPORTS,
    **{name: (resources, OFFER) for name, (resources, _, _) in COUNTED_ONCE.items()},
}

# A scan report that could not be read (its findings only as text, or none of its coded findings
# one earlypath reads) dated after every location read in this pregnancy (stop 24: it was only
# named, so the intrauterine scan of a week before stood and she was offered progesterone, the
# audit counting her eligible): where the pregnancy is and whether a heartbeat was seen are
# unknown from its day, and the offer is held back, the report named as what holds it. A finding
# read on its day (an intrauterine entry beside it) stands; a report dated before the latest read
# location, or one with no usable date (it cannot be placed, as an undated finding cannot), holds
# nothing back; an ectopic pregnancy seen before it still stands.
ECTOPIC_OBSERVATION = ("ect-1", SNOMED, "34801009")
HEART_SEEN_LAST_WEEK = observation(
    "fhr-1", LOINC, "11948-7", day(-7), valueQuantity={"value": 150, "unit": "/min", "code": "/min"}
)
CRL_LAST_WEEK = observation(
    "crl-1", LOINC, "11957-8", day(-7), valueQuantity={"value": 9.5, "unit": "mm", "code": "mm"}
)


def _undated(report: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in report.items() if k not in ("effectiveDateTime", "issued")}
    return {**out, "meta": {"lastUpdated": f"{day()}T11:02:00Z"}}


def _today_only_the_report(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Her record: an intrauterine pregnancy with a heartbeat and a CRL a week ago, and today
    only this report (her LMP dates her)."""
    confirmed = iup_with("final", "iup-1", day(-7))
    return _her_record_without_scan(confirmed, HEART_SEEN_LAST_WEEK, CRL_LAST_WEEK, report)


# shape -> (her record, the decision)
UNREAD_REPORTS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "text-only-report-after-confirmed-iup": (_confirmed_then(_text_only()), NEEDS_SCAN),
    "presented-form-report-after-confirmed-iup": (
        _confirmed_then(
            _text_only(
                conclusion=None,
                presentedForm=[{"contentType": "application/pdf", "data": "JVBERi0xLjQK"}],
            )
        ),
        NEEDS_SCAN,
    ),
    "none-read-report-after-confirmed-iup": (
        _confirmed_then(scan_report(conclusion=_YOLK_SAC)),
        NEEDS_SCAN,
    ),
    "none-read-contained-report-after-confirmed-iup": (
        _confirmed_then(scan_report(contained=[_YOLK_SAC_SEEN])),
        NEEDS_SCAN,
    ),
    "text-only-report-today-after-iup-with-heartbeat": (
        _today_only_the_report(_text_only()),
        NEEDS_SCAN,
    ),
    # she is on progesterone (was: "continue"; NG126 1.5.3 needs the intrauterine pregnancy too)
    "on-progesterone-text-only-report-after-iup-with-heartbeat": (
        [*_today_only_the_report(_text_only()), statement(UTROGESTAN_DMD)],
        NEEDS_SCAN,
    ),
    "text-only-report-beside-read-iup": (scanned(iup_with("final"), _text_only()), OFFER),
    "text-only-report-before-confirmed-iup": (
        scanned(
            iup_with("final"),
            _text_only(
                rid="us-report",
                effectiveDateTime=f"{day(-7)}T09:30:00Z",
                issued=f"{day(-7)}T11:02:00Z",
            ),
        ),
        OFFER,
    ),
    "undated-text-only-report-after-confirmed-iup": (
        _confirmed_then(_undated(_text_only())),
        OFFER,
    ),
    "text-only-report-after-ectopic": (
        scanned(observation(*ECTOPIC_OBSERVATION, day(-7)), _text_only()),
        NO_OFFER,
    ),
}
# A scan today known only by its images, after a confirmed scan a week ago (stop 51, HAZ-20
# C20.50): what it showed is not known, as for a later report given only as text
# (`UNREAD_REPORTS`): the decision is held back, naming the report to read. Was a strict xfail
# (no engine read an ImagingStudy: the offer stood on last week's scan). Controls: its report of
# the same day, read, stands; a renal ultrasound, a study not yet done (registered), cancelled,
# or undated, changes nothing; an ectopic pregnancy seen before it still stands.
IMAGES_ONLY_LATER: dict[str, tuple[list[dict[str, Any]], str]] = {
    "imaging-study-today-after-confirmed-iup": (_confirmed_then(imaging_study()), NEEDS_SCAN),
    # 'unknown': the sender does not know whether the images were taken (read as taken)
    "unknown-status-imaging-study-after-confirmed-iup": (
        _confirmed_then(imaging_study(status="unknown")),
        NEEDS_SCAN,
    ),
    "imaging-study-beside-its-read-report": (
        [*_confirmed_then(imaging_study()), scan_report(conclusion=IUP_CONCEPT)],
        OFFER,
    ),
    "renal-imaging-study-after-confirmed-iup": (
        _confirmed_then(imaging_study(procedure=RENAL_US)),
        OFFER,
    ),
    "registered-imaging-study-after-confirmed-iup": (
        _confirmed_then(imaging_study(status="registered")),
        OFFER,
    ),
    "cancelled-imaging-study-after-confirmed-iup": (
        _confirmed_then(imaging_study(status="cancelled")),
        OFFER,
    ),
    "undated-imaging-study-after-confirmed-iup": (
        _confirmed_then(imaging_study(dated=False)),
        OFFER,
    ),
    "imaging-study-after-ectopic": (
        scanned(observation(*ECTOPIC_OBSERVATION, day(-7)), imaging_study()),
        NO_OFFER,
    ),
}


# Stop 52 (HAZ-20 C20.53): a study coded as real RIS and PACS exports code it, not with the
# obstetric report's code: a local examination code and its name, text only, or the pregnancy
# only in the description, a series, or the reason. Read by its words as a scan not read (the
# offer stood on last week's scan: base "offer"); a renal study (its words name the kidney,
# whatever its reason says) and a pelvic one that names no pregnancy change nothing.
def _ris_study(code: str, name: str, description: str, reason: str) -> list[dict[str, Any]]:
    """Her record: a confirmed scan a week ago, then today a study by a RIS's code, its
    description and its reason in words."""
    study = imaging_study(
        procedure=ris(code, name), description=description, reasonCode=[{"text": reason}]
    )
    return _confirmed_then(study)


_SERIES = {"uid": "1.2.826.0.1.3680043.2.1125.1", "modality": {"system": DICOM, "code": "US"}}
IMAGES_IN_WORDS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "ris-coded-pregnancy-study-after-confirmed-iup": (
        _confirmed_then(
            imaging_study(procedure=ris("UOBEP", "US Pregnancy <14 weeks"), description=None)
        ),
        NEEDS_SCAN,
    ),
    "text-only-viability-study-after-confirmed-iup": (
        _confirmed_then(imaging_study(procedure={"text": "USS viability"}, description=None)),
        NEEDS_SCAN,
    ),
    "description-only-study-after-confirmed-iup": (
        _confirmed_then(
            imaging_study(procedureCode=None, description="Early pregnancy scan (EPAU)")
        ),
        NEEDS_SCAN,
    ),
    "series-only-study-after-confirmed-iup": (
        _confirmed_then(
            imaging_study(
                procedureCode=None,
                description=None,
                series=[
                    {
                        **_SERIES,
                        "description": "TV gestation sac",
                        "bodySite": {"display": "Pelvis"},
                    }
                ],
            )
        ),
        NEEDS_SCAN,
    ),
    "pelvis-study-for-bleeding-in-pregnancy-after-confirmed-iup": (
        _ris_study("UPELV", "US Pelvis", "US Pelvis", "PV bleeding in early pregnancy"),
        NEEDS_SCAN,
    ),
    # controls: another organ in its own words, whatever the reason; a pelvis naming no pregnancy
    "ris-coded-renal-study-in-pregnancy-after-confirmed-iup": (
        _ris_study("URENT", "US Renal tract", "US Kidneys", "Loin pain in pregnancy"),
        OFFER,
    ),
    "ris-coded-pelvis-study-after-confirmed-iup": (
        _ris_study("UPELV", "US Pelvis", "Pelvic ultrasound: ovaries", "Pelvic pain"),
        OFFER,
    ),
    # stop 52 (HAZ-20 C20.59): the study says in a hyphenated word that it is not of a pregnancy
    # (the base read "obstetric" and "pregnant" in them: needs information)
    "ris-coded-non-obstetric-study-after-confirmed-iup": (
        _ris_study("UPNOB", "US Pelvis (non-obstetric)", "Pelvis non-obstetric", "Pelvic pain"),
        OFFER,
    ),
    "non-pregnant-pelvis-study-after-confirmed-iup": (
        _ris_study("UPELV", "US Pelvis", "Pelvis, non-pregnant", "Pelvic pain"),
        OFFER,
    ),
    # stop 53 (HAZ-20 C20.61): the parts written apart as RIS text writes them: a no-break space
    # (base: the kind unknown, an offer) and an en dash (base: "obstetric" read, held back);
    # control: a semicolon ends a phrase, so "not; pregnant" is not "not pregnant"
    "ris-coded-dating-scan-no-break-space-after-confirmed-iup": (
        _confirmed_then(
            imaging_study(procedure=ris("UDATS", "US Dating\u00a0scan"), description=None)
        ),
        NEEDS_SCAN,
    ),
    "ris-coded-non-obstetric-en-dash-study-after-confirmed-iup": (
        _ris_study("UPNOB", "US Pelvis (non\u2013obstetric)", "Pelvis NON\u2013OBSTETRIC", "Pain"),
        OFFER,
    ),
    # stop 54 (HAZ-20 C20.73): "intra uterine" in two words, its parts apart as any listed
    # word's (base: no word read, the study's kind unknown: an offer)
    "ris-coded-intra-uterine-study-after-confirmed-iup": (
        _confirmed_then(imaging_study(procedure=ris("UIUT", "US Intra uterine"), description=None)),
        NEEDS_SCAN,
    ),
    "ris-coded-intra-en-dash-uterine-study-after-confirmed-iup": (
        _confirmed_then(
            imaging_study(procedure=ris("UIUT", "US INTRA\u2013UTERINE"), description=None)
        ),
        NEEDS_SCAN,
    ),
    "pregnancy-study-not-then-pregnant-after-confirmed-iup": (
        _ris_study(
            "UOBEP", "US Pregnancy <14 weeks", "Bleeding, hCG not; pregnant 7/40", "PV bleed"
        ),
        NEEDS_SCAN,
    ),
}

# Stop 52 (HAZ-20 C20.54): a study and its report. The report refers to the study
# (`imagingStudy`) and is dated minutes before it, the evening before: the study's `started`
# comes from the ultrasound machine's clock (DICOM StudyDate and StudyTime, often not kept in
# time), the report's from the RIS. The report, read, stands (base: the study, a day later,
# held it back for ever). Controls: the report of the next morning (no reference) stands after
# the images of the evening before; a study after the latest report, and a study whose report
# was entered in error, still hold back.


def studies_as_exported(name: str, resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Her resources with each report's `imagingStudy` reference, and a study's
    `procedureReference`, to the id its resource gets in an export of several women
    (`tests.fhir_exports.as_patient` prefixes ids, not references)."""
    out = []
    for r in resources:
        if "imagingStudy" in r:
            refs = [{"reference": _prefixed(name, ref["reference"])} for ref in r["imagingStudy"]]
            r = {**r, "imagingStudy": refs}
        if "procedureReference" in r:
            r = {
                **r,
                "procedureReference": {
                    "reference": _prefixed(name, r["procedureReference"]["reference"])
                },
            }
        out.append(r)
    return out


def _prefixed(name: str, reference: str) -> str:
    """A relative reference ("Type/id") to the id `as_patient` gives it in her export."""
    kind, rid = reference.split("/", 1)
    return f"{kind}/{name}-{rid}"


_STUDY_LATE = imaging_study(started=f"{day()}T00:20:00Z")
_ITS_REPORT = {
    **scan_report(
        conclusion=IUP_CONCEPT,
        effectiveDateTime=f"{day(-1)}T23:50:00Z",
        issued=f"{day(-1)}T23:58:00Z",
    ),
    "imagingStudy": [{"reference": "ImagingStudy/us-study"}],
}
IMAGES_AND_REPORTS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "study-dated-after-its-report-by-the-machine-clock": (
        [*_confirmed_then(_STUDY_LATE), _ITS_REPORT],
        OFFER,
    ),
    "study-reported-next-morning": (
        [
            *_confirmed_then(imaging_study(started=f"{day(-1)}T23:30:00Z")),
            scan_report(conclusion=IUP_CONCEPT, effectiveDateTime=f"{day()}T08:10:00Z"),
        ],
        OFFER,
    ),
    "study-after-the-latest-reported-study": (
        [
            *_confirmed_then(imaging_study(day(-1), id="us-study-1")),
            {
                **scan_report(conclusion=IUP_CONCEPT, effectiveDateTime=f"{day(-1)}T11:00:00Z"),
                "imagingStudy": [{"reference": "ImagingStudy/us-study-1"}],
            },
            imaging_study(),
        ],
        NEEDS_SCAN,
    ),
    "study-whose-report-is-entered-in-error": (
        [*_confirmed_then(_STUDY_LATE), {**_ITS_REPORT, "status": "entered-in-error"}],
        NEEDS_SCAN,
    ),
}


# Stop 52 (HAZ-20 C20.55): a study's elements that cannot be read, named. A status FHIR R4 does
# not define, or none, is read as 'unknown' (taken: it holds the offer back; base: not read, an
# offer, silent); a `started` that is no date, or not text, cannot be placed (ignored, named with
# the element); an ultrasound with no procedure code and no words (the shape of public FHIR
# examples: modality US, nothing else) is named, not read.
def _study_later(**changes: Any) -> list[dict[str, Any]]:
    """Her record: a confirmed scan a week ago, then today's study with these elements."""
    return _confirmed_then(imaging_study(**changes))


# Stop 52 (w-study52, HAZ-20 C20.60): the study names nothing itself; the Procedure it refers to
# (`procedureReference`) says what was done. The base named the study's kind unknown and offered.
OBSTETRIC_US = {
    "coding": [{"system": SNOMED, "code": "268445003", "display": "Ultrasound scan - obstetric"}]
}


def scan_procedure(code: dict[str, Any], on: str | None = None, **changes: Any) -> dict[str, Any]:
    """A completed Procedure of today (``on``: of that day) of this code."""
    return {
        "resourceType": "Procedure",
        "id": "us-procedure",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": code,
        "performedDateTime": f"{on or day()}T09:30:00Z",
    } | changes


def _study_of_procedure(code: dict[str, Any]) -> list[dict[str, Any]]:
    """Her record: a confirmed scan a week ago, then today a study that names nothing itself and
    refers to a completed Procedure of today of this code."""
    procedure = scan_procedure(code)
    study = imaging_study(
        procedureCode=None,
        description=None,
        procedureReference={"reference": "Procedure/us-procedure"},
    )
    return [*_confirmed_then(study), procedure]


STUDY_FIELDS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "study-status-not-r4-after-confirmed-iup": (_study_later(status="final"), NEEDS_SCAN),
    "study-status-missing-after-confirmed-iup": (_study_later(status=None), NEEDS_SCAN),
    "study-started-not-a-date-after-confirmed-iup": (_study_later(started="this morning"), OFFER),
    "study-started-not-text-after-confirmed-iup": (_study_later(started=20261207), OFFER),
    "study-uncoded-ultrasound-after-confirmed-iup": (
        _study_later(procedureCode=None, description=None),
        OFFER,
    ),
    "study-of-an-obstetric-procedure-after-confirmed-iup": (
        _study_of_procedure(OBSTETRIC_US),
        NEEDS_SCAN,
    ),
    "study-of-a-ris-pregnancy-procedure-after-confirmed-iup": (
        _study_of_procedure(ris("UOBEP", "US Pregnancy <14 weeks")),
        NEEDS_SCAN,
    ),
    # control: a Procedure of another organ tells nothing more (the study's kind is named)
    "study-of-a-renal-procedure-after-confirmed-iup": (_study_of_procedure(RENAL_US), OFFER),
}


# Stop 53 (HAZ-20 C20.62): a scan known only by its Procedure: completed, coded as an obstetric
# scan (SNOMED CT 268445003, or a RIS's words), no result read on or after its day. The base read
# nothing of it: an offer on last week's scan. Controls: its report read that day; a Procedure
# the day before the confirmed scan; one of another organ; one not completed.
LONE_PROCEDURES: dict[str, tuple[list[dict[str, Any]], str]] = {
    "obstetric-procedure-after-confirmed-iup": (
        _confirmed_then(scan_procedure(OBSTETRIC_US)),
        NEEDS_SCAN,
    ),
    "ris-pregnancy-procedure-after-confirmed-iup": (
        _confirmed_then(scan_procedure(ris("UOBEP", "US Pregnancy <14 weeks"))),
        NEEDS_SCAN,
    ),
    "obstetric-procedure-beside-its-read-report": (
        [*_confirmed_then(scan_procedure(OBSTETRIC_US)), scan_report(conclusion=IUP_CONCEPT)],
        OFFER,
    ),
    "obstetric-procedure-before-the-confirmed-scan": (
        _confirmed_then(scan_procedure(OBSTETRIC_US, day(-8))),
        OFFER,
    ),
    "renal-procedure-after-confirmed-iup": (_confirmed_then(scan_procedure(RENAL_US)), OFFER),
    "obstetric-procedure-in-progress-after-confirmed-iup": (
        _confirmed_then(scan_procedure(OBSTETRIC_US, status="in-progress")),
        OFFER,
    ),
    # stop 54 (HAZ-20 C20.72): FHIR R4's `unknown` (the sender does not know its state): the
    # scan may have been done (base: not read, an offer)
    "obstetric-procedure-status-unknown-after-confirmed-iup": (
        _confirmed_then(scan_procedure(OBSTETRIC_US, status="unknown")),
        NEEDS_SCAN,
    ),
}
_PROCEDURE_TODAY = f"scan procedure of {day()}{definition.LONE_PROCEDURE_MESSAGE}"
# shape -> every problem naming her Procedure
PROCEDURE_PROBLEMS: dict[str, tuple[str, ...]] = {
    shape: (_PROCEDURE_TODAY,) if decision == NEEDS_SCAN else ()
    for shape, (_, decision) in LONE_PROCEDURES.items()
} | {
    # stop 54 (HAZ-20 C20.74): a study of its Procedure's day is named once, as the Procedure
    # (base: as the study too)
    "study-of-an-obstetric-procedure-after-confirmed-iup": (_PROCEDURE_TODAY,),
    "study-of-a-ris-pregnancy-procedure-after-confirmed-iup": (_PROCEDURE_TODAY,),
    "study-of-a-renal-procedure-after-confirmed-iup": (),
}
_IMAGES_TODAY = f"scan images of {day()}{definition.IMAGES_ONLY_MESSAGE}"
_IMAGES_UNDATED = (
    f"scan images with no report (ImagingStudy.started) {definition.PLACE_MESSAGES['undated']}"
)
# shape -> every problem naming her study (the audit's and the card's): stop 52's women
STUDY_PROBLEMS: dict[str, tuple[str, ...]] = {
    **{
        shape: (_IMAGES_TODAY,)
        for shape, (_, decision) in {**IMAGES_IN_WORDS, **IMAGES_AND_REPORTS}.items()
        if decision == NEEDS_SCAN
    },
    "ris-coded-renal-study-in-pregnancy-after-confirmed-iup": (),
    "ris-coded-non-obstetric-study-after-confirmed-iup": (),
    "non-pregnant-pelvis-study-after-confirmed-iup": (),
    "ris-coded-pelvis-study-after-confirmed-iup": (definition.STUDY_KIND_UNKNOWN_MESSAGE,),
    "study-dated-after-its-report-by-the-machine-clock": (),
    "study-reported-next-morning": (),
    "study-status-not-r4-after-confirmed-iup": (definition.STUDY_STATUS_MESSAGE, _IMAGES_TODAY),
    "study-status-missing-after-confirmed-iup": (
        definition.STUDY_STATUS_MISSING_MESSAGE,
        _IMAGES_TODAY,
    ),
    "study-started-not-a-date-after-confirmed-iup": (_IMAGES_UNDATED,),
    "study-started-not-text-after-confirmed-iup": (
        "started is not text; read as absent",
        _IMAGES_UNDATED,
    ),
    "study-uncoded-ultrasound-after-confirmed-iup": (definition.STUDY_KIND_UNKNOWN_MESSAGE,),
    # named as its Procedure (`PROCEDURE_PROBLEMS`; stop 54, HAZ-20 C20.74)
    "study-of-an-obstetric-procedure-after-confirmed-iup": (),
    "study-of-a-ris-pregnancy-procedure-after-confirmed-iup": (),
    "study-of-a-renal-procedure-after-confirmed-iup": (definition.STUDY_KIND_UNKNOWN_MESSAGE,),
    "ris-coded-non-obstetric-en-dash-study-after-confirmed-iup": (),
}
IMAGES_LATER_52 = {**IMAGES_IN_WORDS, **IMAGES_AND_REPORTS, **STUDY_FIELDS, **LONE_PROCEDURES}

# shape -> the problem naming her scan images (`IMAGES_ONLY_MESSAGE`): of its day when it holds
# the decision back, as not placed when undated; none beside its report read that day
IMAGES_PROBLEMS = {
    **{
        shape: f"scan images of {day()}{definition.IMAGES_ONLY_MESSAGE}"
        for shape in (
            "imaging-study-today-after-confirmed-iup",
            "unknown-status-imaging-study-after-confirmed-iup",
            "imaging-study-after-ectopic",
        )
    },
    "undated-imaging-study-after-confirmed-iup": _IMAGES_UNDATED,
}

# shape -> what the report's day makes of her latest scan (the episode's latest scan: its date,
# location and heartbeat). Its location is "report_not_read" (stop 25; it was "unknown", which
# the pathway sections read as a pregnancy of unknown location and asked for serum hCG).
UNREAD_LATEST_SCAN = {
    "text-only-report-after-confirmed-iup": (day(), "report_not_read", None),
    "none-read-report-after-confirmed-iup": (day(), "report_not_read", None),
    "text-only-report-today-after-iup-with-heartbeat": (day(), "report_not_read", None),
    "text-only-report-beside-read-iup": (day(), "intrauterine", None),
    "text-only-report-before-confirmed-iup": (day(), "intrauterine", None),
    "undated-text-only-report-after-confirmed-iup": (day(), "intrauterine", None),
    "text-only-report-after-ectopic": (day(), "ectopic", None),
}
_HOLDS_BACK = f"scan report of {day()}{definition.UNREAD_REPORT_MESSAGE}"
_UNDATED = f"scan report that could not be read {definition.PLACE_MESSAGES['undated']}"
# shape -> the problems naming the report (its first, why it was not read; then what it does)
UNREAD_PROBLEMS: dict[str, tuple[str, ...]] = {
    "text-only-report-after-confirmed-iup": (definition.SCAN_TEXT_ONLY_MESSAGE, _HOLDS_BACK),
    "presented-form-report-after-confirmed-iup": (
        definition.SCAN_TEXT_ONLY_MESSAGE,
        _HOLDS_BACK,
    ),
    "none-read-report-after-confirmed-iup": (definition.SCAN_NOTHING_READ_MESSAGE, _HOLDS_BACK),
    "none-read-contained-report-after-confirmed-iup": (
        definition.SCAN_NOTHING_READ_MESSAGE,
        _HOLDS_BACK,
    ),
    "text-only-report-today-after-iup-with-heartbeat": (
        definition.SCAN_TEXT_ONLY_MESSAGE,
        _HOLDS_BACK,
    ),
    "on-progesterone-text-only-report-after-iup-with-heartbeat": (
        definition.SCAN_TEXT_ONLY_MESSAGE,
        _HOLDS_BACK,
    ),
    "text-only-report-beside-read-iup": (definition.SCAN_TEXT_ONLY_MESSAGE,),
    "text-only-report-before-confirmed-iup": (definition.SCAN_TEXT_ONLY_MESSAGE,),
    "undated-text-only-report-after-confirmed-iup": (definition.SCAN_TEXT_ONLY_MESSAGE, _UNDATED),
    "text-only-report-after-ectopic": (definition.SCAN_TEXT_ONLY_MESSAGE, _HOLDS_BACK),
}

# --- versions of one scan report (stop 27) ---------------------------------------------------------
# A site re-sends an amended report with the id of the version it replaces (FHIR R4
# DiagnosticReport.id), so her record holds both. One version is read: the latest by
# meta.lastUpdated, else issued, then an amended / corrected / appended one; versions that cannot
# be ordered and say different things are held back (the report not read). Each shape is given in
# both orders of the versions (``-a`` as listed, ``-b`` reversed): the answer must not depend on it.
_ORIGINAL_IUP = scan_report(conclusion=IUP_CONCEPT, rid="us-dup")
_VERSION_PAIRS: dict[str, tuple[tuple[dict[str, Any], dict[str, Any]], str]] = {
    # was the open gap of stop 26: the superseded intrauterine finding gave an offer
    "amended-text-only-replaces-coded-iup": (
        (_ORIGINAL_IUP, {**_text_only(), "id": "us-dup", "status": "amended"}),
        NEEDS_SCAN,
    ),
    "amended-miscarriage-replaces-coded-iup": (
        (
            _ORIGINAL_IUP,
            {
                **scan_report(conclusion=MISCARRIAGE_CONCEPT, rid="us-dup", status="amended"),
                "issued": f"{day()}T15:00:00Z",
            },
        ),
        NO_OFFER,
    ),
    # meta.lastUpdated orders the versions before issued (and before their status)
    "latest-by-last-updated-is-text-only": (
        (
            {
                **_ORIGINAL_IUP,
                "issued": f"{day()}T15:00:00Z",
                "meta": {"lastUpdated": f"{day()}T12:00:00Z"},
            },
            {**_text_only(), "id": "us-dup", "meta": {"lastUpdated": f"{day()}T16:00:00Z"}},
        ),
        NEEDS_SCAN,
    ),
    # the latest version withdraws the report: nothing of it is read (no scan shows where)
    "latest-version-entered-in-error": (
        (
            _ORIGINAL_IUP,
            {**_ORIGINAL_IUP, "status": "entered-in-error", "issued": f"{day()}T15:00:00Z"},
        ),
        NEEDS_SCAN,
    ),
    # same time, same status, one coded and one text only: which is current cannot be told
    "tied-versions-disagree-held-back": (
        (_ORIGINAL_IUP, {**_text_only(), "id": "us-dup"}),
        NEEDS_SCAN,
    ),
    # the same version sent twice says one thing: read
    "same-version-twice": ((_ORIGINAL_IUP, dict(_ORIGINAL_IUP)), OFFER),
}
REPORT_VERSIONS: dict[str, tuple[list[dict[str, Any]], str]] = {
    f"{shape}-{order}": (scanned(*(pair if order == "a" else pair[::-1])), decision)
    for shape, (pair, decision) in _VERSION_PAIRS.items()
    for order in ("a", "b")
}
# the shapes whose scan is then a report not read (progesterone names `scan_report`)
REPORT_VERSIONS_TO_READ = frozenset(
    f"{shape}-{order}"
    for shape in (
        "amended-text-only-replaces-coded-iup",
        "latest-by-last-updated-is-text-only",
        "tied-versions-disagree-held-back",
    )
    for order in ("a", "b")
)
# shape -> the versions held back, named (the report's ref carries its id)
VERSIONS_HELD = {
    f"tied-versions-disagree-held-back-{order}": definition.VERSIONS_HELD_MESSAGE
    for order in ("a", "b")
}


# --- versions of a scan finding sent as an Observation (stop 28) -----------------------------------
# The same, the finding an Observation (LOINC 59776-5 valued intrauterine) re-sent with its id:
# one version is read, ranked as a report's. Stop 27 read both, so a text-only amendment left the
# superseded intrauterine finding confirming the scan (an offer).
_FOUND_IUP = observation("us-find", *FINDINGS, day(), valueCodeableConcept=IUP_CONCEPT)
_FOUND_TEXT_ONLY = {
    **{k: v for k, v in _FOUND_IUP.items() if k != "valueCodeableConcept"},
    "valueString": "No intrauterine pregnancy seen; retained products",
}
_FINDING_PAIRS: dict[str, tuple[tuple[dict[str, Any], dict[str, Any]], str]] = {
    "amended-text-only-finding-replaces-iup": (
        (_FOUND_IUP, {**_FOUND_TEXT_ONLY, "status": "amended"}),
        NEEDS_SCAN,
    ),
    "amended-ectopic-finding-replaces-iup": (
        (_FOUND_IUP, {**_FOUND_IUP, "status": "amended", "valueCodeableConcept": ECTOPIC_CONCEPT}),
        NO_OFFER,
    ),
    # meta.lastUpdated orders the versions before their status: the latest is read either way
    "latest-finding-by-last-updated-is-text-only": (
        (
            {**_FOUND_IUP, "meta": {"lastUpdated": f"{day()}T12:00:00Z"}},
            {**_FOUND_TEXT_ONLY, "meta": {"lastUpdated": f"{day()}T16:00:00Z"}},
        ),
        NEEDS_SCAN,
    ),
    "latest-finding-by-last-updated-is-coded-iup": (
        (
            {**_FOUND_IUP, "meta": {"lastUpdated": f"{day()}T16:00:00Z"}},
            {
                **_FOUND_TEXT_ONLY,
                "status": "amended",
                "meta": {"lastUpdated": f"{day()}T12:00:00Z"},
            },
        ),
        OFFER,
    ),
    # the latest version withdraws the finding: no scan shows where the pregnancy is
    "latest-finding-entered-in-error": (
        (_FOUND_IUP, {**_FOUND_IUP, "status": "entered-in-error", "issued": f"{day()}T15:00:00Z"}),
        NEEDS_SCAN,
    ),
    # same time, same status, one coded and one text only: held back, the scan not read
    "tied-finding-versions-disagree-held-back": ((_FOUND_IUP, _FOUND_TEXT_ONLY), NEEDS_SCAN),
    "same-finding-twice": ((_FOUND_IUP, dict(_FOUND_IUP)), OFFER),
}


# Versions of an ultrasound panel (its findings in components) re-sent with its id (stop 29), after
# an intrauterine scan a week before: tied versions whose status or location component disagree
# are held back and the day's scan is one not read. Stop 28 gave a held panel no row at all (its
# location is a component's, not its own), so the scan of a week before stood, "offer", though a
# version held back said "ectopic"; and two tied panels, one intrauterine and one text only, were
# both read ("offer"): what their components said was not compared.
def _panel(location: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Today's panel (id ``us-find``) whose one component gives the sac's location."""
    found = component("https://trust.example/results", "SAC-LOC", **location)
    return us_panel([found], on=day(), id="us-find", **extra)


_PANEL_PAIRS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "tied-panel-versions-ectopic-or-in-error": (
        _panel({"valueCodeableConcept": ECTOPIC_CONCEPT}),
        _panel({"valueCodeableConcept": ECTOPIC_CONCEPT}, status="entered-in-error"),
    ),
    "tied-panel-versions-ectopic-or-preliminary-iup": (
        _panel({"valueCodeableConcept": ECTOPIC_CONCEPT}),
        _panel({"valueCodeableConcept": IUP_CONCEPT}, status="preliminary"),
    ),
    "tied-panel-versions-iup-or-text-only": (
        _panel({"valueCodeableConcept": IUP_CONCEPT}),
        _panel({"valueString": "No intrauterine pregnancy seen; retained products"}),
    ),
}
_SCANNED_A_WEEK_BEFORE = iup_with("final", "iup-1", day(-7))
PANEL_VERSIONS: dict[str, tuple[list[dict[str, Any]], str]] = {
    f"{shape}-{order}": (
        scanned(_SCANNED_A_WEEK_BEFORE, *(pair if order == "a" else pair[::-1])),
        NEEDS_SCAN,
    )
    for shape, pair in _PANEL_PAIRS.items()
    for order in ("a", "b")
}
OBSERVATION_VERSIONS: dict[str, tuple[list[dict[str, Any]], str]] = {
    **{
        f"{shape}-{order}": (scanned(*(pair if order == "a" else pair[::-1])), decision)
        for shape, (pair, decision) in _FINDING_PAIRS.items()
        for order in ("a", "b")
    },
    **PANEL_VERSIONS,
}
# the shapes whose scan is then one not read (held back: progesterone names `scan_report`)
OBSERVATION_VERSIONS_TO_READ = frozenset(
    {
        *(f"tied-finding-versions-disagree-held-back-{order}" for order in ("a", "b")),
        *PANEL_VERSIONS,
    }
)
# shape -> the versions held back, named (the Observation's ref carries its id)
FINDING_VERSIONS_HELD = {
    shape: definition.OBSERVATION_VERSIONS_HELD_MESSAGE for shape in OBSERVATION_VERSIONS_TO_READ
}
# shape -> the problem of the day's scan not read, which names what was sent: a scan finding (an
# Observation), not a report (stop 29: it said "scan report of <day> could not be read")
UNREAD_FINDING_PROBLEMS = {
    shape: f"scan finding of {day()}{definition.UNREAD_FINDING_MESSAGE}"
    for shape in OBSERVATION_VERSIONS_TO_READ
}
# the shapes an engine reading both versions (stop 27) got wrong: an offer on a superseded or
# withdrawn intrauterine finding
OBSERVATION_VERSIONS_FIXED = frozenset(
    f"{shape}-{order}"
    for shape in (
        "amended-text-only-finding-replaces-iup",
        "latest-finding-by-last-updated-is-text-only",
        "latest-finding-entered-in-error",
        "tied-finding-versions-disagree-held-back",
    )
    for order in ("a", "b")
)

# Two women of one export whose report, and whose finding, share an id (a bulk export merged from
# two systems; ids are unique per server, not per export). Each is read from her own versions
# (stop 28: stop 27 compared ids across the export, so the later text-only report of one woman
# replaced the other's coded intrauterine report: no offer where one is due, and one woman's
# record changing another's reading). The audit's tests give each woman her own Patient and
# encounter and then write ``SHARED_IDS`` back as the ids the two share.
SHARED_IDS = ("us-dup", "us-find")
SHARED_ID_CASES: dict[str, tuple[list[dict[str, Any]], str]] = {
    "shared-id-report-coded-iup": (scanned(_ORIGINAL_IUP), OFFER),
    "shared-id-report-later-text-only": (
        scanned(
            {**_text_only(), "id": "us-dup", "status": "amended", "issued": f"{day()}T15:00:00Z"}
        ),
        NEEDS_SCAN,
    ),
    # tied to the other woman's were their ids compared across the export: both held back
    "shared-id-finding-coded-iup": (scanned(_FOUND_IUP), OFFER),
    "shared-id-finding-text-only": (scanned(_FOUND_TEXT_ONLY), NEEDS_SCAN),
}
SHARED_ID_TO_READ = frozenset({"shared-id-report-later-text-only"})


# The shapes whose latest scan is a report that could not be read (the episode's location
# "report_not_read"): progesterone's `needs_information` names the report (`scan_report`) as the
# pathway sections do, not "a scan" (stop 26: it named `scans`, though a scan was done).
REPORT_TO_READ = frozenset(
    {
        "report-contained-unreferred",
        "report-contained-code-not-an-object",
        "scan-report-free-text-only",
        "scan-report-presented-form-only",
        "scan-report-conclusion-none-read",
        "scan-report-contained-none-read",
        "imaging-study-only",
        *(shape for shape, (_, decision) in UNREAD_REPORTS.items() if decision == NEEDS_SCAN),
        *(shape for shape, (_, decision) in IMAGES_ONLY_LATER.items() if decision == NEEDS_SCAN),
        *(shape for shape, (_, decision) in IMAGES_LATER_52.items() if decision == NEEDS_SCAN),
        *REPORT_VERSIONS_TO_READ,
        *OBSERVATION_VERSIONS_TO_READ,
        *SHARED_ID_TO_READ,
    }
)
