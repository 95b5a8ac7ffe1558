"""A pregnancy test sent with no value, only its interpretation (stop 40).

A lab may send a qualitative hCG with no value[x] and only its flag in `interpretation`
(v3 ObservationInterpretation NEG "Negative", ND "Not detected"). It ended nothing, so an LMP
before it, of a pregnancy the test showed was over, still dated today's scan and the card
offered progesterone at 11+3 weeks. A negative or not-detected flag on a result with no value now
reads as the value Negative does; POS, DET and IND, or a value beside the flag, read as before.
Through the ASGI app (the card) and the DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fhir_exports import audited_by_shape
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.hcg_interpretation_shapes import NEGATIVE, NOT_NEGATIVE, export
from tests.records.real_shapes import ended_then_scanned

PV = "/cds-services/ng126-progesterone"


def _summary(client, test: dict) -> str:
    request = hook_request("patient-view", prefetch_for(ended_then_scanned(test)))
    response = client.post(PV, json=request)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return str(card["summary"])


@pytest.mark.parametrize("shape", sorted(NEGATIVE))
def test_a_negative_flag_with_no_value_ends_the_pregnancy_before_it(client, shape: str) -> None:
    summary = _summary(client, NEGATIVE[shape])
    assert not summary.startswith("Offer"), shape
    assert "gestational age" in summary, shape


@pytest.mark.parametrize("shape", sorted(NOT_NEGATIVE))
def test_any_other_flag_or_a_value_ends_nothing(client, shape: str) -> None:
    assert _summary(client, NOT_NEGATIVE[shape]).startswith("Offer"), shape


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    decisions = audited_by_shape(export(), tmp_path)
    assert sorted(decisions) == sorted({**NEGATIVE, **NOT_NEGATIVE})
    for shape in NEGATIVE:
        assert decisions[shape]["decision"] == "needs_information", shape
        assert "lmp" in decisions[shape]["missing"], shape  # the old LMP dates nothing
    for shape in NOT_NEGATIVE:
        assert decisions[shape]["decision"] == "offer", shape
