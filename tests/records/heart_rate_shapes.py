"""A fetal heart rate coded LOINC 55283-6 "Fetal Heart rate" (stop 41), as the Thai MoPH-PC
pregnancy profile sends it (sil-th/43fileplus-ig SD_Observation_PregFetalHeartRate.fsh: valueQuantity
in UCUM /min), beside an eligible woman's record: the card's, the audit's and Spark's tests."""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import LOINC, day, eligible_resources, observation

RATES = {"fhr-148": 148, "fhr-0": 0}  # shape -> beats a minute: a heartbeat seen, none


def rate(per_minute: float) -> dict[str, Any]:
    """The heart rate Observation, taken today."""
    quantity = {"value": per_minute, "unit": "/min", "system": "http://unitsofmeasure.org"}
    return observation("fh", LOINC, "55283-6", day(), valueQuantity={**quantity, "code": "/min"})


def export() -> Export:
    """A woman per rate (ids and references prefixed with the shape), her encounter today."""
    return export_per_shape(
        {shape: [*eligible_resources(), rate(per_minute)] for shape, per_minute in RATES.items()}
    )
