"""A pregnancy test sent with no value, only its interpretation (stop 40): the records, and one
export of them (a woman per shape), shared by the card's and the audit's tests.

The shape: a lab's flag in `Observation.interpretation` (FHIR R4; the ObservationInterpretation-
Detection codes of HL7's v3 ObservationInterpretation: NEG "Negative", ND "Not detected", POS
"Positive", DET "Detected", IND "Indeterminate") on a result whose value[x] is absent. An LMP 80
days ago, the test 20 days ago, then today bleeding and an intrauterine pregnancy on a scan
(`tests.records.real_shapes.ended_then_scanned`). A negative test ends the pregnancy before it,
so the old LMP dates nothing; the others end nothing.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.records.real_shapes import SERUM_HCG, URINE_HCG, ended_then_scanned, pregnancy_test

V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def _flagged(code: tuple[str, str], flag: str, display: str) -> dict[str, Any]:
    return pregnancy_test(
        code,
        {
            "interpretation": [
                {"coding": [{"system": V3_INTERPRETATION, "code": flag, "display": display}]}
            ]
        },
    )


NEGATIVE = {  # ends the pregnancy before it: the gestation is unknown
    "urine-neg": _flagged(URINE_HCG, "NEG", "Negative"),
    "serum-nd": _flagged(SERUM_HCG, "ND", "Not detected"),
}
NOT_NEGATIVE = {  # ends nothing: the old LMP dates the scan, as before
    "urine-pos": _flagged(URINE_HCG, "POS", "Positive"),
    "urine-det": _flagged(URINE_HCG, "DET", "Detected"),
    "urine-ind": _flagged(URINE_HCG, "IND", "Indeterminate"),
    # a value decides: 250 IU/L is a positive test, whatever the flag says
    "value-beside-neg": {
        **_flagged(SERUM_HCG, "NEG", "Negative"),
        "valueQuantity": {"value": 250, "unit": "IU/L"},
    },
}


def export() -> Export:
    """A woman per shape (ids and references prefixed with the shape), her encounter today."""
    every = {**NEGATIVE, **NOT_NEGATIVE}
    return export_per_shape({shape: ended_then_scanned(test) for shape, test in every.items()})
