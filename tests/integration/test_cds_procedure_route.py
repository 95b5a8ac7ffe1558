"""The scan's route given by the code of the scan's Procedure (NG126 1.4.6-1.4.11; stop 45,
w-route45; HAZ-20 C20.34). A completed Procedure of today coded for a transvaginal ultrasound
(CPT 76817, LOINC 24677-7) beside a crown-rump length and a heart rate with no
``Observation.method`` is a transvaginal scan: the card names the transvaginal step (1.4.7)
alone, as for a finding whose method says so. A planned or not-done Procedure, one of no route's
code, or a local code whose text says "transvaginal" give no route: each route's step,
conditionally (C11.7). A Procedure that disagrees with the finding's method gives none either,
named. Through the ASGI app, then the DuckDB reading and FHIR audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration import route_source_checks as checks
from tests.records.procedure_route_shapes import ROUTES


@pytest.mark.parametrize(
    "shape", ["procedure-tv-cpt", "procedure-tv-loinc", "procedure-tv-method-tv"]
)
def test_a_transvaginal_procedure_gives_the_transvaginal_step(client: Any, shape: str) -> None:
    checks.assert_the_transvaginal_step(client, ROUTES, shape)


@pytest.mark.parametrize(
    "shape",
    [
        "procedure-tv-method-ta",
        "procedure-tv-planned",
        "procedure-tv-not-done",
        "procedure-viability",
        "procedure-local-text",
    ],
)
def test_no_route_read_names_each_routes_step(client: Any, shape: str) -> None:
    checks.assert_each_routes_step(client, ROUTES, shape)


def test_the_duckdb_reading_gives_each_route_as_the_card_does(tmp_path: Path) -> None:
    checks.assert_duckdb_reads_as_the_card(ROUTES, tmp_path, "procedure_route")


def test_the_duckdb_fhir_audit_carries_the_procedures_route(tmp_path: Path) -> None:
    checks.assert_the_audit_carries_the_route(ROUTES, tmp_path, "procedure_route")
