"""A scan that records an intrauterine pregnancy as not seen (stop 40).

The shape: a finding answered yes or no, as questionnaires, EPAU scan forms and lab systems code
it (LOINC answer list LL361-7 "Yes"/"No", the SNOMED CT qualifier values, or `valueBoolean`, the
FHIR R4 Observation value for a yes/no finding; `tests.records.real_shapes.YES_NO`), and an
ultrasound panel's component (`tests.records.real_shapes.us_panel`). An intrauterine pregnancy
was seen two days ago; today's scan records it as not seen. It was read as saying nothing, so
the earlier scan stood and the card offered progesterone (NG126 1.5.2 needs an intrauterine
pregnancy confirmed by a scan: today's did not confirm one). Today's location is now unknown
(a pregnancy of unknown location), named, on the card and in the audit (DuckDB); an ectopic
pregnancy recorded as not seen still says nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earlypath.records.definition import IUP_NOT_SEEN_MESSAGE
from tests.fhir_exports import audited_by_shape
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.iup_not_seen_shapes import (
    NOT_SEEN,
    SAYS_NOTHING,
    export,
    seen_two_days_ago,
)

PV = "/cds-services/ng126-progesterone"


def _card(client, resources: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(resources)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return dict(card)


@pytest.mark.parametrize("shape", sorted(NOT_SEEN))
def test_an_intrauterine_pregnancy_not_seen_today_is_no_offer(client, shape: str) -> None:
    card = _card(client, [*seen_two_days_ago(), NOT_SEEN[shape]])
    assert card["summary"] == "NG126 progesterone: needs a scan showing where the pregnancy is"
    assert IUP_NOT_SEEN_MESSAGE in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(SAYS_NOTHING))
def test_an_ectopic_pregnancy_not_seen_says_nothing(client, shape: str) -> None:
    card = _card(client, [*seen_two_days_ago(), SAYS_NOTHING[shape]])
    assert card["summary"].startswith("Offer"), shape


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    decisions = audited_by_shape(export(), tmp_path)
    assert sorted(decisions) == sorted({**NOT_SEEN, **SAYS_NOTHING})
    for shape in NOT_SEEN:
        assert decisions[shape]["decision"] == "needs_information", shape
        assert "scans" in decisions[shape]["missing"], shape
    for shape in SAYS_NOTHING:
        assert decisions[shape]["decision"] == "offer", shape
