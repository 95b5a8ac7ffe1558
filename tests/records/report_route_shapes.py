"""A scan's route given by its report's code, not by ``Observation.method`` (stop 44, w-route44;
HAZ-20 C20.33). Many systems send the scan as a DiagnosticReport whose code names the
procedure: LOINC 24677-7 "US Pelvis transvaginal" (LOINC Imaging Document Codes, the HL7 C-CDA
on FHIR value set 1.3.6.1.4.1.12009.10.2.5), its results the findings (a crown-rump length of
9 mm, a heart rate of 0/min) with no method. Each shape is an eligible woman's record
(`scan_route_shapes.record`) beside such a report of today; the card's, the audit's and Spark's
tests read them.

The report's code is read only where it is a code of a route's value set: a report coded for a
pregnancy scan of no route, a local code whose text says "transvaginal", or a report entered in
error give no route (never guessed from text); a report and a finding's method that disagree
give none either, named."""

from __future__ import annotations

from typing import Any

from tests.integration.fhir_data import LOINC, day
from tests.records.route_source_shapes import RouteShapes, RouteSource, coded_scan
from tests.records.scan_route_shapes import TRANSABDOMINAL, TRANSVAGINAL

US_PELVIS_TRANSVAGINAL = {"system": LOINC, "code": "24677-7", "display": "US Pelvis transvaginal"}
US_FOR_PREGNANCY = {"system": LOINC, "code": "11525-3", "display": "US Pelvis Fetus for pregnancy"}
LOCAL_TRANSVAGINAL = {
    "system": "https://hospital.example.org/fhir/CodeSystem/imaging-exams",
    "code": "UTVPR",
    "display": "US transvaginal early pregnancy",
}


def report(code: dict[str, str], status: str = "final") -> dict[str, Any]:
    """The scan's report of today, coded ``code``, its results the two findings."""
    results = [{"reference": "Observation/crl"}, {"reference": "Observation/fhr"}]
    return coded_scan("DiagnosticReport", code, status, effectiveDateTime=day(), result=results)


# shape -> (the findings' method codings, the report, the route read: None is Unknown)
SHAPES: RouteShapes = {
    "report-tv": ([], report(US_PELVIS_TRANSVAGINAL), "transvaginal"),
    "report-tv-method-tv": ([TRANSVAGINAL], report(US_PELVIS_TRANSVAGINAL), "transvaginal"),
    # the report and the finding disagree: Unknown, named
    "report-tv-method-ta": ([TRANSABDOMINAL], report(US_PELVIS_TRANSVAGINAL), None),
    # controls: no route's code
    "report-pregnancy": ([], report(US_FOR_PREGNANCY), None),
    "report-local-text": ([], report(LOCAL_TRANSVAGINAL), None),
    "report-tv-in-error": ([], report(US_PELVIS_TRANSVAGINAL, "entered-in-error"), None),
}
CONFLICTING = {"report-tv-method-ta"}
ROUTES = RouteSource(SHAPES, frozenset(CONFLICTING))
record = ROUTES.record
export = ROUTES.export
check_reading = ROUTES.check_reading
