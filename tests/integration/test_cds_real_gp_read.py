"""The CDS service and the DuckDB audit on GP records coded in Read v2 or CTV3 only, or under the
NHS HL7 v3 code-system OIDs of a GP2GP extract (issue 12, real records; stop 43, w-gp43; HAZ-20
C20.40, HAZ-03 C03.40; `tests.records.gp_read_shapes`).

An inevitable miscarriage today coded in Read v2 or CTV3 holds the offer back (NG126 1.5.2: it
was read as no record, and the card offered progesterone); an EDD coded so, or by SNOMED CT's
"EDD from antenatal ultrasound scan", that disagrees with the LMP is named and the decision asks
for information (it was ignored and the LMP dated her); an LMP and a scan-confirmed intrauterine
pregnancy coded so are read (the decision asked for them). Through the ASGI app's patient-view,
the compiled reading on DuckDB (step for step and problem for problem as the card's) and the
DuckDB FHIR audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from tests.fhir_exports import write_export
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records import gp_read_shapes as shapes
from tests.records.test_engines_agree import assert_same, audit_reading

PV = "/cds-services/ng126-progesterone"
CITED = "(NG126 1.5.2"
VERSION = "(2023-08-23)"


def _card(client: Any, shape: str) -> dict[str, Any]:
    prefetch = prefetch_for(shapes.SHAPES[shape])
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


@pytest.mark.parametrize("shape", sorted(shapes.NO_OFFER))
def test_a_miscarriage_or_ectopic_today_coded_so_holds_the_offer_back(
    client: Any, shape: str
) -> None:
    summary = _card(client, shape)["summary"]
    assert summary.startswith("Progesterone not recommended by NG126 1.5.2"), summary
    assert VERSION in summary
    expected = "ectopic" if "tubal" in shape else "miscarriage has been diagnosed"
    assert expected in summary.lower(), summary


@pytest.mark.parametrize("shape", sorted(shapes.NEEDS_INFORMATION))
def test_an_edd_coded_so_that_disagrees_with_the_lmp_asks_for_information(
    client: Any, shape: str
) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("NG126 progesterone: needs"), card["summary"]
    assert "gestation" in card["summary"], card["summary"]
    assert shapes.EDD_DISAGREES in card["detail"].replace("\\", ""), card["detail"]


@pytest.mark.parametrize("shape", sorted(shapes.OFFER))
def test_an_lmp_scan_or_bleeding_coded_so_is_read(client: Any, shape: str) -> None:
    summary = _card(client, shape)["summary"]
    assert summary.startswith("Offer"), summary
    assert CITED in summary and VERSION in summary


@pytest.mark.parametrize("shape", sorted(shapes.UNKNOWN_HISTORY))
def test_a_history_not_in_a_public_list_leaves_the_count_unknown_never_none(
    client: Any, shape: str
) -> None:
    assert "needs number of previous miscarriages" in _card(client, shape)["summary"]


def test_the_duckdb_reading_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """The compiled definition on DuckDB, step for step and problem for problem as the card's."""
    export = shapes.export()
    folder = write_export(export, tmp_path / "in")
    readings = audit_reading(ibis.duckdb.connect(), folder, "gpread", export)
    assert_same(export, readings)
    shapes.check_reading(readings)


def test_the_duckdb_fhir_audit_judges_them(tmp_path: Path) -> None:
    folder = write_export(shapes.export(), tmp_path / "in")
    run_audit(folder, tmp_path / "out", engine="duckdb")
    judged = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    got = {r["episode_id"].split("-enc")[0]: r["decision"] for r in judged}
    assert got == shapes.DECISIONS
