"""A scan's route given by the code of the scan's Procedure, not by ``Observation.method`` (stop
45, w-route45; HAZ-20 C20.34). A system that records the scan as a Procedure done today, coded
for a transvaginal ultrasound of the pregnant uterus (CPT 76817) or for the transvaginal pelvic
ultrasound (LOINC 24677-7, an imaging procedure code), beside its findings (a crown-rump length
of 9 mm, a heart rate of 0/min) with no method. Each shape is an eligible woman's record
(`scan_route_shapes.record`) beside such a Procedure; the card's, the audit's and Spark's tests
read them.

Only a completed Procedure whose code is one of the route's value set gives the route: a
planned or not-done one, a scan procedure of no route's code (Synthea's viability scan), or a
local code whose text says "transvaginal" give none (never guessed from text); a Procedure and
a finding's method that disagree give none either, named."""

from __future__ import annotations

from typing import Any

from tests.integration.fhir_data import LOINC, day
from tests.records.route_source_shapes import RouteShapes, RouteSource, coded_scan
from tests.records.scan_route_shapes import SNOMED, TRANSABDOMINAL, TRANSVAGINAL

CPT = "http://www.ama-assn.org/go/cpt"
CPT_TRANSVAGINAL = {
    "system": CPT,
    "code": "76817",
    "display": "Ultrasound, pregnant uterus, real time with image documentation, transvaginal",
}
LOINC_TRANSVAGINAL = {"system": LOINC, "code": "24677-7", "display": "US Pelvis transvaginal"}
VIABILITY_SCAN = {
    "system": SNOMED,
    "code": "169230002",
    "display": "Ultrasound scan for fetal viability",
}
LOCAL_TRANSVAGINAL = {
    "system": "https://hospital.example.org/fhir/CodeSystem/imaging-exams",
    "code": "UTVPR",
    "display": "US transvaginal early pregnancy",
}


def procedure(code: dict[str, str], status: str = "completed") -> dict[str, Any]:
    """The scan as a Procedure performed today, coded ``code``."""
    return coded_scan("Procedure", code, status, performedDateTime=day())


# shape -> (the findings' method codings, the Procedure, the route read: None is Unknown)
SHAPES: RouteShapes = {
    "procedure-tv-cpt": ([], procedure(CPT_TRANSVAGINAL), "transvaginal"),
    "procedure-tv-loinc": ([], procedure(LOINC_TRANSVAGINAL), "transvaginal"),
    "procedure-tv-method-tv": ([TRANSVAGINAL], procedure(CPT_TRANSVAGINAL), "transvaginal"),
    # the Procedure and the finding disagree: Unknown, named
    "procedure-tv-method-ta": ([TRANSABDOMINAL], procedure(CPT_TRANSVAGINAL), None),
    # controls: not done, or no route's code
    "procedure-tv-planned": ([], procedure(CPT_TRANSVAGINAL, "preparation"), None),
    "procedure-tv-not-done": ([], procedure(CPT_TRANSVAGINAL, "not-done"), None),
    "procedure-viability": ([], procedure(VIABILITY_SCAN), None),
    "procedure-local-text": ([], procedure(LOCAL_TRANSVAGINAL), None),
}
CONFLICTING = {"procedure-tv-method-ta"}
ROUTES = RouteSource(SHAPES, frozenset(CONFLICTING))
record = ROUTES.record
export = ROUTES.export
check_reading = ROUTES.check_reading
