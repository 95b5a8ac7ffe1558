"""A fetal heart rate coded LOINC 55283-6 "Fetal Heart rate" (stop 41).

Only 11948-7 "Fetal Heart rate US" was read, so the Thai MoPH-PC pregnancy profile's heart rate
(sil-th/43fileplus-ig SD_Observation_PregFetalHeartRate.fsh: LOINC 55283-6, valueQuantity /min)
left the heartbeat unknown: the card asked for a rescan to confirm a heartbeat on record. Through
the ASGI app (the card) and the DuckDB audit's reading (her latest scan's heartbeat).
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest

import earlypath.audit.fhir_flat as fhir_flat
from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_read import read_fhir_export
from tests.fhir_exports import write_export
from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for
from tests.records.heart_rate_shapes import rate
from tests.records.real_shapes import export_of

PV = "/cds-services/ng126-progesterone"
RESCAN = "No fetal heartbeat has been confirmed yet"


@pytest.mark.parametrize(("per_minute", "rescan"), [(148, False), (0, True)])
def test_a_55283_6_heart_rate_is_read(client, per_minute: float, rescan: bool) -> None:
    prefetch = prefetch_for([*eligible_resources(), rate(per_minute)])
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert card["summary"].startswith("Offer")
    assert (RESCAN in card["detail"]) is rescan


@pytest.mark.parametrize(("per_minute", "heartbeat"), [(148, "true"), (0, "false")])
def test_the_audit_reads_it_on_duckdb(per_minute: float, heartbeat: str, tmp_path: Path) -> None:
    folder = write_export(export_of([*eligible_resources(), rate(per_minute)]), tmp_path / "in")
    found = discover_export(folder, fhir_flat.RESOURCES)
    table, _ = read_fhir_export(ibis.duckdb.connect(), found, "fh")
    (row,) = table.to_pyarrow().to_pylist()
    assert row["fetal_heartbeat"] == heartbeat
