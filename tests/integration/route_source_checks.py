"""The checks the route vignettes share (a scan resource whose code names the route: the report,
`test_cds_report_route.py`; the Procedure, `test_cds_procedure_route.py`): through the ASGI app
(the card), then the DuckDB reading and FHIR audit. Each test module keeps its own tests and
shape ids; the body of each is here, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq

import earlypath.audit.fhir_flat as fhir_flat
from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_read import read_fhir_export
from earlypath.audit.run import run_audit
from tests.fhir_exports import write_export
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.integration.test_cds_scan_route import CITED, STEP_1_4_7, STEP_1_4_8
from tests.records.route_source_shapes import RouteSource

PV = "/cds-services/ng126-progesterone"
ROUTE_NOT_RECORDED = "the scan's route is not recorded"
CONFLICT = "name both a transvaginal and a transabdominal route"


def _detail(client: Any, routes: RouteSource, shape: str) -> tuple[str, str]:
    prefetch = prefetch_for(routes.record(shape))
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card["summary"], card["detail"].replace("\\", "")


def assert_the_transvaginal_step(client: Any, routes: RouteSource, shape: str) -> None:
    """The card offers and names the transvaginal step (1.4.7) alone."""
    summary, detail = _detail(client, routes, shape)
    assert summary.startswith("Offer"), summary  # the offer does not depend on the route
    assert STEP_1_4_7 in detail, detail
    assert CITED.format(number="1.4.7") in detail
    assert "**Advice (1.4.8)**" not in detail and ROUTE_NOT_RECORDED not in detail, detail


def assert_each_routes_step(client: Any, routes: RouteSource, shape: str) -> None:
    """No route read: the card offers, says the route is not recorded and gives each route's
    step conditionally (a disagreement with the finding's method named)."""
    summary, detail = _detail(client, routes, shape)
    assert summary.startswith("Offer"), summary
    assert STEP_1_4_7 not in detail and STEP_1_4_8 not in detail, detail
    assert ROUTE_NOT_RECORDED in detail, detail
    assert CITED.format(number="1.4.7") in detail and CITED.format(number="1.4.8") in detail
    assert (CONFLICT in detail) == (shape in routes.conflicting), detail


def assert_duckdb_reads_as_the_card(routes: RouteSource, tmp_path: Path, name: str) -> None:
    """The compiled reading on DuckDB gives every step and problem the Python reading gives,
    each scan day its route."""
    from tests.records.test_engines_agree import assert_same, audit_reading

    export = routes.export()
    folder = write_export(export, tmp_path / "in")
    readings = audit_reading(ibis.duckdb.connect(), folder, name, export)
    assert_same(export, readings)
    routes.check_reading(readings)


def assert_the_audit_carries_the_route(routes: RouteSource, tmp_path: Path, name: str) -> None:
    """The DuckDB FHIR audit's flat row holds each woman's route (Unknown as "unknown"), and
    every woman is offered."""
    folder = write_export(routes.export(), tmp_path / "in")
    found = discover_export(folder, fhir_flat.RESOURCES)
    table, _ = read_fhir_export(ibis.duckdb.connect(), found, name)
    rows = {r["episode_id"].split("-enc")[0]: r for r in table.to_pyarrow().to_pylist()}
    expected = {shape: route or "unknown" for shape, (_, _, route) in routes.shapes.items()}
    assert {shape: rows[shape]["scan_route"] for shape in expected} == expected
    run_audit(folder, tmp_path / "out", engine="duckdb")
    judged = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    assert sorted(r["decision"] for r in judged) == ["offer"] * len(routes.shapes)
