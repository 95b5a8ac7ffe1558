"""The scan's route given by its report's code (NG126 1.4.6-1.4.11; stop 44, w-route44; HAZ-20
C20.33). A DiagnosticReport coded LOINC 24677-7 "US Pelvis transvaginal" whose results are the
crown-rump length and the heart rate (no ``Observation.method``) is a transvaginal scan: the card
names the transvaginal step (1.4.7) alone, as for a finding whose method says so. A report of
no route's code, a local code whose text says "transvaginal", or one entered in error give no
route: each route's step, conditionally (C11.7). A report that disagrees with the finding's
method gives none either, named. Through the ASGI app, then the DuckDB reading and FHIR audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

import earlypath.audit.fhir_flat as fhir_flat
from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_read import read_fhir_export
from earlypath.audit.run import run_audit
from tests.fhir_exports import write_export
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.integration.test_cds_scan_route import CITED, STEP_1_4_7, STEP_1_4_8
from tests.records import report_route_shapes as shapes
from tests.records.test_engines_agree import assert_same, audit_reading

PV = "/cds-services/ng126-progesterone"
ROUTE_NOT_RECORDED = "the scan's route is not recorded"
CONFLICT = "name both a transvaginal and a transabdominal route"


def _detail(client: Any, shape: str) -> tuple[str, str]:
    prefetch = prefetch_for(shapes.record(shape))
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card["summary"], card["detail"].replace("\\", "")


@pytest.mark.parametrize("shape", ["report-tv", "report-tv-method-tv"])
def test_a_transvaginal_report_gives_the_transvaginal_step(client: Any, shape: str) -> None:
    summary, detail = _detail(client, shape)
    assert summary.startswith("Offer"), summary  # the offer does not depend on the route
    assert STEP_1_4_7 in detail, detail
    assert CITED.format(number="1.4.7") in detail
    assert "**Advice (1.4.8)**" not in detail and ROUTE_NOT_RECORDED not in detail, detail


@pytest.mark.parametrize(
    "shape", ["report-tv-method-ta", "report-pregnancy", "report-local-text", "report-tv-in-error"]
)
def test_no_route_read_names_each_routes_step(client: Any, shape: str) -> None:
    summary, detail = _detail(client, shape)
    assert summary.startswith("Offer"), summary
    assert STEP_1_4_7 not in detail and STEP_1_4_8 not in detail, detail
    assert ROUTE_NOT_RECORDED in detail, detail
    assert CITED.format(number="1.4.7") in detail and CITED.format(number="1.4.8") in detail
    assert (CONFLICT in detail) == (shape in shapes.CONFLICTING), detail


def test_the_duckdb_reading_gives_each_route_as_the_card_does(tmp_path: Path) -> None:
    export = shapes.export()
    folder = write_export(export, tmp_path / "in")
    readings = audit_reading(ibis.duckdb.connect(), folder, "report_route", export)
    assert_same(export, readings)
    shapes.check_reading(readings)


def test_the_duckdb_fhir_audit_carries_the_reports_route(tmp_path: Path) -> None:
    folder = write_export(shapes.export(), tmp_path / "in")
    found = discover_export(folder, fhir_flat.RESOURCES)
    table, _ = read_fhir_export(ibis.duckdb.connect(), found, "report_route")
    rows = {r["episode_id"].split("-enc")[0]: r for r in table.to_pyarrow().to_pylist()}
    expected = {shape: route or "unknown" for shape, (_, _, route) in shapes.SHAPES.items()}
    assert {shape: rows[shape]["scan_route"] for shape in expected} == expected
    run_audit(folder, tmp_path / "out", engine="duckdb")
    judged = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    assert sorted(r["decision"] for r in judged) == ["offer"] * len(shapes.SHAPES)
