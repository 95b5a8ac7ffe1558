"""Vignettes of findings sent only as components of an obstetric ultrasound panel (issue 12): one
per fact the scan gives (crown-rump length, mean sac diameter, fetal heart rate, fetal heartbeat
finding), for the CDS service, the reading engines and the FHIR audit.

Each woman has bleeding, a previous miscarriage and a scan today showing an intrauterine
pregnancy (`tests.integration.fhir_data`); the fact under test is only in the panel. Where the
crown-rump length is the fact, she has no LMP either: the panel's CRL alone dates the pregnancy.
"""

from __future__ import annotations

from typing import Any

from tests.integration.fhir_data import LOINC, SNOMED, bleeding, day, iup, lmp, previous_miscarriage
from tests.records.real_shapes import component, quantity, us_panel

# fact -> (the panel's components, what the scan of the day reads from them)
PANEL_FACTS: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "crl": (
        [component(LOINC, "11957-8", valueQuantity=quantity(0.95, "cm"))],
        {"crl_mm": 9.5, "fetal_pole": True},
    ),
    "msd": (
        [component(LOINC, "11850-5", valueQuantity=quantity(1.2, "cm"))],
        {"msd_mm": 12.0},
    ),
    "fhr": (
        [component(LOINC, "11948-7", valueQuantity=quantity(150, "/min"))],
        {"fetal_heartbeat": True},
    ),
    "fhr-zero": (
        [component(LOINC, "11948-7", valueQuantity=quantity(0, "/min"))],
        {"fetal_heartbeat": False},
    ),
    "heartbeat": (
        [component(SNOMED, "237241002", valueBoolean=True)],
        {"fetal_heartbeat": True},
    ),
}


def panel_of(fact: str, **extra: Any) -> dict[str, Any]:
    return us_panel(PANEL_FACTS[fact][0], on=day(), **extra)


def woman_with_panel(fact: str, **extra: Any) -> list[dict[str, Any]]:
    """Eligible for progesterone but for the fact, which only the panel gives (no LMP when the
    fact is the CRL that dates the pregnancy)."""
    dating = [] if fact == "crl" else [lmp()]
    return [previous_miscarriage(), bleeding(), *dating, iup(), panel_of(fact, **extra)]
