"""Ultrasound panels whose findings are only in ``hasMember`` (issue 12, real records; stop 43,
w-gp43; re-landed stop 44, w-panel44; HAZ-01 C01.41; `tests.records.panel_member_shapes`).

A panel Observation's members kept inside it (``contained``, referred to as "#id") are read as a
scan report's contained findings are: an ectopic pregnancy so sent today holds the offer back
(NG126 1.5.2; it was not read, and the card offered progesterone on an intrauterine scan of a
week before); an intrauterine member and its CRL give the offer; a member of a preliminary panel
confirms nothing. Members exported beside the panel were read and still are (guards); members
coded in nothing the reader knows give no location (never an offer). Through the ASGI app's
patient-view, the compiled reading on DuckDB (step for step and problem for problem as the
card's) and the DuckDB FHIR audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from earlypath.records.definition import UNCONFIRMED_MESSAGE
from tests.fhir_exports import write_export
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records import panel_member_shapes as shapes
from tests.records.test_engines_agree import assert_same, audit_reading

PV = "/cds-services/ng126-progesterone"
VERSION = "(2023-08-23)"


def _card(client: Any, shape: str) -> dict[str, Any]:
    prefetch = prefetch_for(shapes.SHAPES[shape])
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


@pytest.mark.parametrize("shape", sorted(shapes.NO_OFFER))
def test_an_ectopic_member_of_todays_panel_holds_the_offer_back(client: Any, shape: str) -> None:
    summary = _card(client, shape)["summary"]
    assert summary.startswith("Progesterone not recommended by NG126 1.5.2"), summary
    assert VERSION in summary and "ectopic" in summary.lower(), summary


@pytest.mark.parametrize("shape", sorted(shapes.OFFER))
def test_the_members_of_an_intrauterine_panel_are_read(client: Any, shape: str) -> None:
    summary = _card(client, shape)["summary"]
    assert summary.startswith("Offer"), summary
    assert "(NG126 1.5.2" in summary and VERSION in summary


@pytest.mark.parametrize("shape", sorted(shapes.NOT_CONFIRMED))
def test_a_member_of_a_preliminary_panel_confirms_nothing(client: Any, shape: str) -> None:
    card = _card(client, shape)
    assert card["summary"].startswith("NG126 progesterone: needs"), card["summary"]
    assert UNCONFIRMED_MESSAGE in card["detail"].replace("\\", ""), card["detail"]


@pytest.mark.parametrize("shape", sorted(shapes.NO_LOCATION))
def test_members_coded_in_nothing_known_give_no_location(client: Any, shape: str) -> None:
    summary = _card(client, shape)["summary"]
    assert summary.startswith("NG126 progesterone: needs a scan showing where the pregnancy is")


def test_the_duckdb_reading_reads_them_as_the_card_does(tmp_path: Path) -> None:
    export = shapes.export()
    folder = write_export(export, tmp_path / "in")
    readings = audit_reading(ibis.duckdb.connect(), folder, "members", export)
    assert_same(export, readings)
    shapes.check_reading(readings)


def test_the_duckdb_reading_reads_them_with_no_id_sent_twice(tmp_path: Path) -> None:
    """Stop 45: with no Observation id repeated the audit reads each version table as the
    resource's own row (`own_rows`); the members' join of the chosen versions finds no row
    there, and they are read (the export above has re-sent panels: the repeated pairs' plan)."""
    names = tuple(s for s in shapes.SHAPES if not s.startswith("resent-"))
    export = shapes.export(names)
    folder = write_export(export, tmp_path / "in")
    readings = audit_reading(ibis.duckdb.connect(), folder, "members_once", export)
    assert_same(export, readings)
    shapes.check_reading(readings, names)


def test_the_duckdb_fhir_audit_judges_them(tmp_path: Path) -> None:
    folder = write_export(shapes.export(), tmp_path / "in")
    run_audit(folder, tmp_path / "out", engine="duckdb")
    judged = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    got = {r["episode_id"].split("-enc")[0]: r["decision"] for r in judged}
    assert got == shapes.DECISIONS


def _resent(first: str, then: str) -> list[dict[str, Any]]:
    """Her record with today's panel of an intrauterine member and its CRL sent twice (one id):
    ``first``, then a later version with status ``then``."""
    from tests.integration.fhir_data import crl, iup

    return shapes.record(*shapes.resent([iup(), crl()], first, [iup(), crl()], then))


def test_a_panel_sent_again_final_still_offers(client: Any) -> None:
    """The control of the one below: the same two versions, both final."""
    prefetch = prefetch_for(_resent("final", "final"))
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    (card,) = response.json()["cards"]
    assert card["summary"].startswith("Offer"), card["summary"]


def test_a_panel_entered_in_error_later_leaves_no_member_confirming(client: Any) -> None:
    """Stop 45 (HAZ-01 C01.41): the first final version's intrauterine member is not read once
    a later version withdraws the panel (before, it still confirmed the location: an offer)."""
    prefetch = prefetch_for(_resent("final", "entered-in-error"))
    response = client.post(PV, json=hook_request("patient-view", prefetch))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    summary = card["summary"]
    assert summary.startswith("NG126 progesterone: needs a scan showing where"), summary
