"""Malformed medicines and panel components are reported by name, and a medicine whose record
cannot say whether it is current leaves "on progesterone" Unknown, never "not on it"
(`tests.records.malformed_shapes`; the Python engine, as the CDS service reads a record)."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.fhir.mapping import map_resources
from tests.integration.fhir_data import TODAY, eligible_resources
from tests.records.malformed_shapes import (
    CARE_EVENTS,
    COMPONENTS,
    MEDICINES,
    PANEL_COMPONENTS,
    UNDATED_EFFECTIVE,
    UNDATED_EFFECTIVE_PROBLEM,
    panel,
    panel_of,
)


def _problems(result: Any, ref: str) -> list[str]:
    return [p.message for p in result.problems if p.field == ref]


def _ref(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


@pytest.mark.parametrize("shape", sorted(MEDICINES))
def test_a_malformed_medicine_is_named_and_never_read_as_not_on_progesterone(shape: str) -> None:
    resource, problem, on_progesterone = MEDICINES[shape]
    result = map_resources([*eligible_resources(), resource], TODAY)
    assert result.episode["on_progesterone"] is on_progesterone
    assert problem in _problems(result, _ref(resource))
    if on_progesterone is None:
        assert any(
            "whether she is on progesterone is unknown" in p
            for p in _problems(result, _ref(resource))
        )


def test_a_statement_with_no_full_date_is_current_and_said_so() -> None:
    result = map_resources([*eligible_resources(), UNDATED_EFFECTIVE], TODAY)
    assert result.episode["on_progesterone"] is True
    assert _problems(result, _ref(UNDATED_EFFECTIVE)) == [UNDATED_EFFECTIVE_PROBLEM]


@pytest.mark.parametrize("shape", sorted(COMPONENTS))
def test_a_malformed_panel_component_is_named(shape: str) -> None:
    component, problem = COMPONENTS[shape]
    result = map_resources([*eligible_resources(), panel(component)], TODAY)
    # first, and once (a value that cannot be read may also leave its finding unused)
    assert _problems(result, "Observation/us-panel")[0] == problem


@pytest.mark.parametrize("shape", sorted(PANEL_COMPONENTS))
def test_a_panel_whose_component_is_not_a_list_of_coded_objects_is_named(shape: str) -> None:
    components, problem = PANEL_COMPONENTS[shape]
    result = map_resources([*eligible_resources(), panel_of(components)], TODAY)
    assert _problems(result, "Observation/us-panel") == [problem]


def test_a_well_formed_panel_component_gives_no_problem() -> None:
    component = {
        "code": {"coding": [{"system": "http://loinc.org", "code": "11957-8"}]},
        "valueQuantity": {"value": 9.5, "unit": "mm", "code": "mm"},
    }
    result = map_resources([*eligible_resources(), panel(component)], TODAY)
    assert _problems(result, "Observation/us-panel") == []


@pytest.mark.parametrize("shape", sorted(CARE_EVENTS))
def test_a_malformed_dispense_or_dose_is_named(shape: str) -> None:
    """The care given (MedicationDispense, MedicationAdministration: read by the audit) is
    reported as the other medicine records are; it said nothing before stop 22."""
    resource, problem, _ = CARE_EVENTS[shape]
    result = map_resources([*eligible_resources(), resource], TODAY)
    assert _problems(result, _ref(resource)) == [problem]


def test_a_well_formed_dispense_and_dose_give_no_problem() -> None:
    dispense = CARE_EVENTS["dispense-status-a-number"][0] | {"status": "completed"}
    dose = CARE_EVENTS["dose-status-missing"][0] | {"status": "completed"}
    result = map_resources([*eligible_resources(), dispense, dose], TODAY)
    assert not _problems(result, _ref(dispense)) and not _problems(result, _ref(dose))
