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

import pytest

from tests.integration import route_source_checks as checks
from tests.records.report_route_shapes import ROUTES


@pytest.mark.parametrize("shape", ["report-tv", "report-tv-method-tv"])
def test_a_transvaginal_report_gives_the_transvaginal_step(client: Any, shape: str) -> None:
    checks.assert_the_transvaginal_step(client, ROUTES, shape)


@pytest.mark.parametrize(
    "shape",
    [
        "report-tv-method-ta",
        "report-pregnancy",
        "report-local-text",
        "report-tv-in-error",
    ],
)
def test_no_route_read_names_each_routes_step(client: Any, shape: str) -> None:
    checks.assert_each_routes_step(client, ROUTES, shape)


def test_the_duckdb_reading_gives_each_route_as_the_card_does(tmp_path: Path) -> None:
    checks.assert_duckdb_reads_as_the_card(ROUTES, tmp_path, "report_route")


def test_the_duckdb_fhir_audit_carries_the_reports_route(tmp_path: Path) -> None:
    checks.assert_the_audit_carries_the_route(ROUTES, tmp_path, "report_route")
