"""The scan's route read from the record (NG126 1.4.6-1.4.11; stop 42, w-route42; HAZ-11 C11.5).

NICE asks 14 days before a second scan of a transabdominal CRL (1.4.8) and 7 days, or a second
opinion, of a transvaginal one (1.4.7). The route is read from the finding's ``Observation.method``
(DICOM CID 12025 "OB-GYN Ultrasound Beam Path": SNOMED CT 54300008 Trans-vaginal, 66739002
Trans-abdominal). A record that names no route is not read as transvaginal: the route is Unknown,
the card names the step for each route (stop 43: 1.4.7 if transvaginal, 1.4.8 if transabdominal;
never one guessed; the 1.5.3 rescan advice stands) and the progesterone decision, which does not
depend on the route, is unchanged. Two routes for one scan are Unknown too, and named as a
problem. Through the ASGI app.
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
from tests.records import scan_route_shapes as shapes
from tests.records.scan_route_shapes import TRANSABDOMINAL, TRANSVAGINAL
from tests.records.test_engines_agree import assert_same, audit_reading

PV = "/cds-services/ng126-progesterone"
RESCAN = "No fetal heartbeat has been confirmed yet"
STEP_1_4_8 = (
    "**Advice (1.4.8)**: No heartbeat, with a crown-rump length measured on a transabdominal "
    "scan: record its size; a second scan at least 14 days after it before diagnosing a "
    "miscarriage."
)
STEP_1_4_7 = (
    "**Advice (1.4.7)**: No heartbeat with a crown-rump length of 7.0 mm or more (transvaginal)"
)
CITED = "- NG126 {number} (version 2023-08-23)"


def _detail(client: Any, routes: list[dict[str, str]]) -> tuple[str, str]:
    prefetch = prefetch_for(shapes.record(routes))
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card["summary"], card["detail"].replace("\\", "")


def test_a_transabdominal_crl_asks_14_days(client: Any) -> None:
    summary, detail = _detail(client, [TRANSABDOMINAL])
    assert summary.startswith("Offer"), summary
    assert STEP_1_4_8 in detail, detail
    assert CITED.format(number="1.4.8") in detail
    assert "**Advice (1.4.7)**" not in detail and "**Advice (1.4.6)**" not in detail


def test_a_transvaginal_crl_asks_7_days_or_a_second_opinion(client: Any) -> None:
    summary, detail = _detail(client, [TRANSVAGINAL])
    assert summary.startswith("Offer"), summary
    assert STEP_1_4_7 in detail, detail
    assert CITED.format(number="1.4.7") in detail
    assert "**Advice (1.4.8)**" not in detail


@pytest.mark.parametrize(
    "routes", [[], [TRANSVAGINAL, TRANSABDOMINAL]], ids=["not-recorded", "both"]
)
def test_a_route_not_known_names_each_routes_step_and_claims_no_route(
    client: Any, routes: list[dict[str, str]]
) -> None:
    summary, detail = _detail(client, routes)
    assert summary.startswith("Offer"), summary  # the offer does not depend on the route
    assert RESCAN in detail  # the 1.5.3 rescan advice stands
    # never a known route's step (stop 42), but each route's, conditionally (stop 43, C11.7)
    assert STEP_1_4_7 not in detail and STEP_1_4_8 not in detail, detail
    assert (
        "**Advice (1.4.7)**: No heartbeat with a crown-rump length of 7.0 mm or more, and "
        "the scan's route is not recorded" in detail
    ), detail
    assert (
        "**Advice (1.4.8)**: No heartbeat, with a crown-rump length measured, and the "
        "scan's route is not recorded: if it was transabdominal" in detail
    ), detail
    assert CITED.format(number="1.4.7") in detail and CITED.format(number="1.4.8") in detail
    if routes:  # two routes: named as a problem, the route Unknown
        assert "name both a transvaginal and a transabdominal route" in detail, detail
    else:  # no route is claimed: named only as a condition
        assert "(transvaginal)" not in detail.lower(), detail


def test_the_duckdb_reading_gives_each_route_as_the_card_does(tmp_path: Path) -> None:
    """The compiled definition on DuckDB: each scan day's route (Unknown where none or both,
    the two named), step for step and problem for problem as the service reads it."""
    export = shapes.export()
    folder = write_export(export, tmp_path / "in")
    readings = audit_reading(ibis.duckdb.connect(), folder, "route", export)
    assert_same(export, readings)
    shapes.check_reading(readings)


def test_the_duckdb_fhir_audit_carries_the_route(tmp_path: Path) -> None:
    """The audit's flat row: the route read, "unknown" where the record names none (not the
    flat form's empty cell, which is transvaginal); every woman still judged "offer"."""
    folder = write_export(shapes.export(), tmp_path / "in")
    found = discover_export(folder, fhir_flat.RESOURCES)
    table, _ = read_fhir_export(ibis.duckdb.connect(), found, "route")
    rows = {r["episode_id"].split("-enc")[0]: r for r in table.to_pyarrow().to_pylist()}
    expected = {shape: route or "unknown" for shape, (_, route) in shapes.ROUTES.items()}
    assert {shape: rows[shape]["scan_route"] for shape in expected} == expected
    run_audit(folder, tmp_path / "out", engine="duckdb")
    judged = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    assert sorted(r["decision"] for r in judged) == ["offer"] * len(shapes.ROUTES)
