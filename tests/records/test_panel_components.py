"""Findings sent only as components of an ultrasound panel are read, as the Observation each would
be, by every reading engine: the generated reading (the CDS service), the fused row functions,
the closures (the reference) and the compiled reading on DuckDB (the audit; Spark in
tests/audit/test_fhir_panel_components.py). Before issue 12's fix no engine read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pytest

from earlypath.records.definition import COMPONENT_ROWS, READING
from earlypath.records.item_rows import item_resources
from earlypath.records.python import read
from tests.fhir_exports import write_export
from tests.integration.fhir_data import TODAY, day
from tests.records.panel_vignettes import PANEL_FACTS, woman_with_panel
from tests.records.real_shapes import CRL_CM, RATE_150, component, export_of, quantity, us_panel
from tests.records.test_engines_agree import assert_same, audit_reading

# the generated reading (the CDS service's), the fused row functions, the closures
PATHS = {
    "generated": {},
    "fused": {"generated": False},
    "reference": {"fused": False, "generated": False},
}


def _reading(resources: list[dict[str, Any]], path: str) -> Any:
    return read(READING, resources, TODAY, **PATHS[path])


def _scan_today(reading: Any) -> dict[str, Any]:
    (scan,) = [s for s in reading.values["scans"] if s["day"] == TODAY]
    return scan


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("fact", sorted(PANEL_FACTS))
def test_a_finding_given_only_as_a_panel_component_is_read(fact: str, path: str) -> None:
    reading = _reading(woman_with_panel(fact), path)
    scan = _scan_today(reading)
    expected = PANEL_FACTS[fact][1]
    assert {k: scan[k] for k in expected} == expected
    assert reading.problems == []
    assert "Observation/us-panel" in reading.evidence["scans"]


@pytest.mark.parametrize("path", sorted(PATHS))
def test_the_panel_crl_dates_the_pregnancy(path: str) -> None:
    reading = _reading(woman_with_panel("crl"), path)
    assert reading.values["lmp"] is None
    assert reading.values["dating_crl_mm"] == 9.5


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_a_panel_in_error_or_cancelled_gives_none_of_its_components(status: str, path: str) -> None:
    """Its components carry the panel's status: none is read, none is reported."""
    for fact in PANEL_FACTS:
        reading = _reading(woman_with_panel(fact, status=status), path)
        for scan in reading.values["scans"]:  # the IUP finding's day, if it can be placed
            assert scan["crl_mm"] is None and scan["msd_mm"] is None, fact
            assert scan["fetal_heartbeat"] is None, fact
        assert reading.values["dating_crl_mm"] is None
        assert all(p.field != "Observation/us-panel" for p in reading.problems)
        assert "Observation/us-panel" not in reading.evidence.get("scans", [])


@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_component_problem_names_the_panel(path: str) -> None:
    inches = component("http://loinc.org", "11957-8", valueQuantity=quantity(0.4, "[in_i]"))
    reading = _reading(woman_with_panel("fhr")[:-1] + [us_panel([inches], on=day())], path)
    assert [(p.field, p.message.split(";")[0]) for p in reading.problems] == [
        ("Observation/us-panel", "crown-rump length unit '[in_i]' is not mm or cm")
    ]


def test_a_component_takes_its_finding_and_the_panel_the_rest() -> None:
    panel = us_panel(
        [CRL_CM, "not an object", {"valueString": "no code"}],
        on=day(),
        valueQuantity={"value": 1},
        encounter={"reference": "Encounter/enc-1"},
    )
    crl, other, no_code = item_resources(panel, COMPONENT_ROWS)
    assert crl == {
        "resourceType": "Observation",
        "id": "us-panel",
        "status": "final",
        "subject": panel["subject"],
        "encounter": panel["encounter"],
        "effectiveDateTime": day(),
        **CRL_CM,
    }
    assert "valueQuantity" not in other and "code" not in other and "component" not in other
    assert no_code["valueString"] == "no code" and "code" not in no_code
    assert item_resources({**panel, "component": RATE_150}, COMPONENT_ROWS) == []


@pytest.mark.parametrize("fact", sorted(PANEL_FACTS))
def test_the_audit_reads_each_panel_finding_as_the_service_does(fact: str, tmp_path: Path) -> None:
    export = export_of(woman_with_panel(fact))
    folder = write_export(export, tmp_path)
    audit = audit_reading(ibis.duckdb.connect(), folder, "duck", export)
    (episode,) = audit
    (scan,) = [s for s in episode["steps"]["scans"] if s["day"] == TODAY.isoformat()]
    expected = PANEL_FACTS[fact][1]
    assert {k: scan[k] for k in expected} == expected
    assert_same(export, audit)
