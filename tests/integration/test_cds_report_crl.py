"""A crown-rump length sent inside a scan report that is not final (stop 46, issue 12, HAZ-20
C20.35).

A CRL Observation of status `final` kept inside a DiagnosticReport of status `partial`,
`preliminary` or `unknown` (FHIR R4 diagnostic-report-status: results incomplete or not yet
verified), or inside a `preliminary` panel, dated her as a final report's does: alone she was
offered, and beside a final LMP of 17+0 (past 16 completed weeks, NG126 1.5.2) she was offered
too. Such a CRL now never dates her (the gestation unknown with nothing else, the report named),
yet still counts for viability (7 mm or more with no heartbeat: NG126 1.4.7). A report that is
final, amended, corrected or appended dates her by it as before; one registered, entered in
error or cancelled is not read. Through the ASGI app (the card) and the DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from earlypath.fhir.cards import md
from tests.integration.shape_cards import audited_shapes, the_card
from tests.records.report_crl_shapes import (
    DATED_BY_THE_REPORT,
    NOT_DATED,
    SHAPES,
    STILL_VIABILITY,
    UNFINISHED_ALONE,
    UNFINISHED_OVER_FINAL_LMP,
    export,
)

STEP_1_4_7 = "**Advice (1.4.7)**"


@pytest.mark.parametrize("shape", sorted(UNFINISHED_ALONE))
def test_a_crl_in_an_unfinished_report_alone_does_not_date_her(client, shape: str) -> None:
    card = the_card(client, SHAPES[shape])
    assert card["summary"].startswith("NG126 progesterone: needs"), (shape, card["summary"])
    assert "Gestation: unknown" in card["detail"], shape
    container = "Observation/pan" if "panel" in shape else "DiagnosticReport/us-report"
    assert (
        f"- {md(container)}: crown-rump length is recorded on a result not known"
        in (card["detail"])
    ), shape  # named, with why


@pytest.mark.parametrize("shape", sorted(UNFINISHED_OVER_FINAL_LMP))
def test_a_crl_in_an_unfinished_report_does_not_override_a_final_lmp(client, shape: str) -> None:
    card = the_card(client, SHAPES[shape])
    assert "Gestation: 17+0 (by lmp)" in card["detail"], shape
    assert not card["summary"].startswith("Offer"), (shape, card["summary"])


@pytest.mark.parametrize("shape", sorted(DATED_BY_THE_REPORT))
def test_a_final_class_report_dates_her_by_its_crl(client, shape: str) -> None:
    card = the_card(client, SHAPES[shape])
    assert card["summary"].startswith("Offer"), (shape, card["summary"])
    assert "Gestation: 7+0 (by " in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(NOT_DATED))
def test_a_report_not_read_or_a_preliminary_crl_does_not_date_her(client, shape: str) -> None:
    card = the_card(client, SHAPES[shape])
    assert card["summary"].startswith("NG126 progesterone: needs"), (shape, card["summary"])
    assert "Gestation: unknown" in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(STILL_VIABILITY))
def test_a_crl_in_a_partial_report_still_counts_for_viability(client, shape: str) -> None:
    card = the_card(client, SHAPES[shape])
    assert "Gestation: 7+0 (by lmp)" in card["detail"], shape
    assert STEP_1_4_7 in card["detail"], shape  # 9.5 mm, a heart rate of 0/min


def test_the_audit_does_not_date_her_by_a_crl_in_an_unfinished_report(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape: as the card."""
    episodes = audited_shapes(export(), SHAPES, tmp_path)
    for shape in DATED_BY_THE_REPORT:
        assert episodes[shape]["decision"] == "offer", shape
        assert episodes[shape]["gestation_days"] == 7 * 7, shape
    for shape in {**UNFINISHED_ALONE, **NOT_DATED}:
        assert episodes[shape]["decision"] == "needs_information", shape
        assert episodes[shape]["gestation_days"] is None, shape
    for shape in UNFINISHED_OVER_FINAL_LMP:
        assert episodes[shape]["gestation_days"] == 17 * 7, shape
        assert episodes[shape]["decision"] != "offer", shape
    for shape in STILL_VIABILITY:  # dated by the LMP that agrees (the card names 1.4.7's step)
        assert episodes[shape]["gestation_days"] == 7 * 7, shape
        assert episodes[shape]["decision"] == "offer", shape
