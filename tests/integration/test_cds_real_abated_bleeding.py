"""A bleeding Condition with abatement[x] and no clinicalStatus (stop 40).

FHIR R4 con-4 wants an abated Condition's clinicalStatus to be inactive, resolved or remission;
real feeds send the abatement without one. Such a Condition was read as current bleeding, and the
card offered progesterone (NG126 1.5.2 needs vaginal bleeding) on a record that says the bleeding
stopped. It is now read as one recorded as resolved is: whether she is bleeding now is unknown,
named. Abated after the assessment day, she is still bleeding now. Through the ASGI app (the
card) and the DuckDB audit.

Stop 41: the same with a clinicalStatus of `active` or `recurrence` beside the abatement (the
record contradicts itself; it was read as current bleeding, an offer): unknown, named.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from earlypath.records.definition import BLEEDING_ABATED_MESSAGE, BLEEDING_ACTIVE_ABATED_MESSAGE
from tests.fhir_exports import audited_by_shape
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.abated_bleeding_shapes import (
    CONTRADICTED,
    CURRENT,
    MAY_HAVE_ENDED,
    export,
    with_bleeding,
)

PV = "/cds-services/ng126-progesterone"


def _card(client, condition: dict) -> dict:
    request = hook_request("patient-view", prefetch_for(with_bleeding(condition)))
    response = client.post(PV, json=request)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return dict(card)


@pytest.mark.parametrize("shape", sorted(MAY_HAVE_ENDED))
def test_bleeding_abated_by_today_is_unknown_and_named(client, shape: str) -> None:
    card = _card(client, MAY_HAVE_ENDED[shape])
    assert "needs whether she has vaginal bleeding" in card["summary"], shape
    assert BLEEDING_ABATED_MESSAGE in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(CONTRADICTED))
def test_bleeding_active_yet_abated_by_today_is_unknown_and_named(client, shape: str) -> None:
    card = _card(client, CONTRADICTED[shape])
    assert "needs whether she has vaginal bleeding" in card["summary"], shape
    assert BLEEDING_ACTIVE_ABATED_MESSAGE in card["detail"], shape
    assert BLEEDING_ABATED_MESSAGE not in card["detail"], shape


@pytest.mark.parametrize("shape", sorted(CURRENT))
def test_bleeding_not_yet_abated_is_current(client, shape: str) -> None:
    card = _card(client, CURRENT[shape])
    assert card["summary"].startswith("Offer"), shape
    assert BLEEDING_ABATED_MESSAGE not in card["detail"], shape
    assert BLEEDING_ACTIVE_ABATED_MESSAGE not in card["detail"], shape


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    every = {**MAY_HAVE_ENDED, **CONTRADICTED, **CURRENT}
    decisions = audited_by_shape(export(every), tmp_path)
    assert sorted(decisions) == sorted(every)
    for shape in [*MAY_HAVE_ENDED, *CONTRADICTED]:
        assert decisions[shape]["decision"] == "needs_information", shape
        assert "vaginal_bleeding" in decisions[shape]["missing"], shape
    for shape in CURRENT:
        assert decisions[shape]["decision"] == "offer", shape
