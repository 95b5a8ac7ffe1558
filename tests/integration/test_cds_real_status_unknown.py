"""A scan result whose status is `unknown` (stop 42).

FHIR R4 `unknown`: the sender does not know which status applies, one of the others being
presumed, so the result may be final. It was not read at all: an ectopic pregnancy seen today,
sent so (its code, a generic finding's value, a panel's component, a scan report's conclusion),
was dropped and the card and the audit offered progesterone on an intrauterine scan of a week
ago (NG126 1.5.2 needs the pregnancy to be intrauterine). It is now read as a preliminary result
is: the ectopic holds the offer back; an intrauterine finding so sent never confirms and is
named. Through the ASGI app (the card) and the DuckDB audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from earlypath.fhir.cards import md
from earlypath.records.definition import UNCONFIRMED_MESSAGE
from tests.fhir_exports import write_export
from tests.integration.fhir_data import hook_request, prefetch_for
from tests.records.status_unknown_shapes import NO_OFFER, STILL_OFFER, export, shape_of, shapes

PV = "/cds-services/ng126-progesterone"


def _card(client, shape: str) -> dict[str, Any]:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(shapes()[shape])))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return dict(card)


@pytest.mark.parametrize("shape", sorted(NO_OFFER))
def test_an_ectopic_pregnancy_sent_with_status_unknown_holds_the_offer_back(client, shape: str):
    card = _card(client, shape)
    assert card["summary"].startswith("Progesterone not recommended"), (shape, card["summary"])
    assert "ectopic" in card["summary"], shape


@pytest.mark.parametrize("shape", sorted(STILL_OFFER))
def test_an_intrauterine_finding_with_status_unknown_does_not_confirm_and_is_named(client, shape):
    card = _card(client, shape)
    assert card["summary"].startswith("Offer"), shape  # the final scan of a week ago stands
    assert f"- {md('Observation/iup-today')}: {md(UNCONFIRMED_MESSAGE)}" in card["detail"]


def test_the_audit_reads_them_as_the_card_does(tmp_path: Path) -> None:
    """One export on DuckDB, a woman per shape."""
    run_audit(write_export(export(), tmp_path / "in"), tmp_path / "out", engine="duckdb")
    episodes = pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    decisions = {shape_of(e["episode_id"]): e["decision"] for e in episodes}
    assert decisions == {
        **{shape: "do_not_offer" for shape in NO_OFFER},
        **{shape: "offer" for shape in STILL_OFFER},
    }
