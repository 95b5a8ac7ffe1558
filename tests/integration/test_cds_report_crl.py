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

Stop 47: bleeding present, a previous miscarriage or an LMP kept final inside such a report or
panel (or a partial report's coded conclusion of bleeding) opened the offer, or dated her, as a
verified fact; each is now unknown and named, as on a preliminary Observation of its own. An
exported CRL a partial report refers to still dated her (a strict xfail).

Stop 48: a finding exported as its own Observation that an unfinished report's result refers to
is read as one kept inside it. Stop 49: so is a preliminary panel's exported member (hasMember).
"""

from __future__ import annotations

import pytest

from earlypath.fhir.cards import md
from tests.integration.shape_cards import audited_shapes, the_card
from tests.records.report_crl_shapes import (
    ABSENT_STILL_COUNTS,
    DATED_BY_THE_REPORT,
    EXPORTED_DATES_HER,
    EXPORTED_FINDINGS,
    EXPORTED_MEMBER,
    EXPORTED_RESULT,
    FINDING_NAMED,
    FINDINGS_READ,
    NOT_DATED,
    SHAPES,
    STILL_VIABILITY,
    UNFINISHED_ALONE,
    UNFINISHED_FINDINGS,
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


# its CRL dates her over the LMP of 17+0; stop 47: its other findings are read as before
@pytest.mark.parametrize("shape", sorted({**DATED_BY_THE_REPORT, **FINDINGS_READ}))
def test_a_final_class_report_is_read_as_before(client, shape: str) -> None:
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


@pytest.mark.parametrize("shape", sorted(UNFINISHED_FINDINGS))
def test_a_finding_in_an_unfinished_report_is_not_a_verified_fact(client, shape: str) -> None:
    card = the_card(client, SHAPES[shape])
    assert card["summary"].startswith("NG126 progesterone: needs"), (shape, card["summary"])
    container = "Observation/pan" if "panel" in shape else "DiagnosticReport/us-report"
    why = FINDING_NAMED[shape].split(" (")[0]
    assert f"- {md(container)}: {why}" in card["detail"], (shape, card["detail"])
    if shape.startswith("lmp-"):
        assert "Gestation: unknown" in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(ABSENT_STILL_COUNTS))
def test_absent_bleeding_in_a_partial_report_still_holds_the_offer_back(client, shape) -> None:
    card = the_card(client, SHAPES[shape])
    assert not card["summary"].startswith(("Offer", "NG126 progesterone: needs")), card["summary"]


# stop 48: the finding exported as its own Observation that the report's result (or the panel's
# hasMember) refers to is read so too, named by its own reference
@pytest.mark.parametrize("shape", sorted(EXPORTED_RESULT))
def test_an_exported_crl_of_an_unfinished_report_does_not_date_her(client, shape: str) -> None:
    card = the_card(client, SHAPES[shape])
    assert card["summary"].startswith("NG126 progesterone: needs"), (shape, card["summary"])
    assert "Gestation: unknown" in card["detail"], shape
    assert "crown-rump length is recorded on a result not known" in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(EXPORTED_MEMBER))
def test_an_exported_member_of_a_preliminary_panel_does_not_date_her(client, shape: str) -> None:
    """Stop 49: as an exported result of an unfinished report (the panel's latest version
    decides: final then preliminary is unfinished; a preliminary member is so already)."""
    card = the_card(client, SHAPES[shape])
    assert card["summary"].startswith("NG126 progesterone: needs"), (shape, card["summary"])
    assert "Gestation: unknown" in card["detail"], (shape, card["detail"])
    assert "crown-rump length is recorded on a result not known" in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(EXPORTED_FINDINGS))
def test_an_exported_finding_of_an_unfinished_report_is_not_a_verified_fact(
    client, shape: str
) -> None:
    card = the_card(client, SHAPES[shape])
    assert card["summary"].startswith("NG126 progesterone: needs"), (shape, card["summary"])
    why = FINDING_NAMED[shape].split(" (")[0]
    assert f": {why}" in card["detail"], (shape, card["detail"])


# controls: a final report's exported CRL, or one no unfinished report (version read) refers to
@pytest.mark.parametrize("shape", sorted(EXPORTED_DATES_HER))
def test_an_exported_crl_no_unfinished_report_refers_to_dates_her(client, shape: str) -> None:
    card = the_card(client, SHAPES[shape])
    assert card["summary"].startswith("Offer"), (shape, card["summary"])
    assert "Gestation: 7+0 (by " in card["detail"], shape


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """One export on DuckDB, a woman per shape (one audit for the module's audit tests)."""
    return audited_shapes(export(), SHAPES, tmp_path_factory.mktemp("audit"))


def test_the_audit_does_not_date_her_by_a_crl_in_an_unfinished_report(episodes) -> None:
    """As the card."""
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
    for shape in UNFINISHED_FINDINGS:  # stop 47
        assert episodes[shape]["decision"] == "needs_information", shape
    assert episodes["lmp-in-unknown-report-alone"]["gestation_days"] is None
    for shape in FINDINGS_READ:
        assert episodes[shape]["decision"] == "offer", shape
        assert episodes[shape]["gestation_days"] == 7 * 7, shape
    for shape in ABSENT_STILL_COUNTS:
        assert episodes[shape]["decision"] not in ("offer", "needs_information"), shape


def test_the_audit_reads_an_exported_result_of_an_unfinished_report_as_the_card(
    episodes,
) -> None:
    """Stop 48: as the card."""
    for shape in EXPORTED_RESULT:
        assert episodes[shape]["gestation_days"] is None, shape
        assert episodes[shape]["decision"] == "needs_information", shape
    for shape in EXPORTED_FINDINGS:
        assert episodes[shape]["decision"] == "needs_information", shape
    assert episodes["lmp-exported-for-partial-report-alone"]["gestation_days"] is None
    for shape in EXPORTED_DATES_HER:
        assert episodes[shape]["decision"] == "offer", shape
        assert episodes[shape]["gestation_days"] == 7 * 7, shape


def test_the_audit_does_not_date_her_by_an_exported_member_of_a_preliminary_panel(
    episodes,
) -> None:
    """Stop 49: as the card (its controls, a final panel's or a panel's final latest version's
    member, among `EXPORTED_DATES_HER` above)."""
    for shape in EXPORTED_MEMBER:
        assert episodes[shape]["gestation_days"] is None, shape
        assert episodes[shape]["decision"] == "needs_information", shape
