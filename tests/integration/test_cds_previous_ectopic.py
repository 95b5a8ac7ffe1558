"""Where she is seen (NG126 1.3) when her record holds a previous ectopic pregnancy
(`tests.records.previous_ectopic_shapes`).

NG126 1.3 keeps community management (a urine pregnancy test after 7 to 10 days) for a woman under
6 weeks who is bleeding without pain and has no risk factor such as a previous ectopic pregnancy;
with one she is referred to the early pregnancy unit (`earlypath.guideline.referral`, a policy
said in the output). Before stop 27 the reading never gave `previous_ectopic`: a woman whose
record held "Ectopic pregnancy, 2019" was `needs_information` naming it, the clinician asked for
what her record said. Her pain and haemodynamic state are not read from records: the clinician
records them (here: no pain, stable, no concern about the bleeding).
"""

from __future__ import annotations

from typing import Any

import pytest

from earlypath import assess
from earlypath.fhir import bundle_to_episode
from tests.integration.fhir_data import TODAY, bundle, hook_request, prefetch_for
from tests.records.previous_ectopic_shapes import CASES, REFERRAL_CASES

ASSESSED_BY_HER_CLINICIAN = {"pain": "none", "haemodynamically_unstable": False}
EPU = "1.3 early pregnancy unit"


def _referral(resources: list[dict[str, Any]]) -> dict[str, Any]:
    episode, _ = bundle_to_episode(bundle(resources), TODAY)
    episode.update(ASSESSED_BY_HER_CLINICIAN, heavy_bleeding=False)
    referral: dict[str, Any] = assess(episode)["referral"]
    return referral


@pytest.mark.parametrize("name", REFERRAL_CASES)
def test_the_referral_reads_a_previous_ectopic_pregnancy_from_her_record(name: str) -> None:
    resources, previous = CASES[name]
    referral = _referral(resources)
    if previous:
        # (a) "Ectopic pregnancy, 2019": a risk factor, so the early pregnancy unit, not asked
        assert referral["decision"] == "early_pregnancy_unit", referral
        assert referral["missing"] == [], referral
        assert referral["recommendations"] == [EPU], referral
        assert all(c["version"] == "2023-08-23" for c in referral["citations"]), referral
        assert any("previous ectopic" in r for r in referral["reasons"]), referral
    else:
        # (b) none recorded, (c) no date (it may be this pregnancy's), (d) refuted: still asked
        assert referral["decision"] == "needs_information", referral
        assert referral["missing"] == ["previous_ectopic"], referral


def test_a_previous_ectopic_pregnancy_is_never_read_as_none() -> None:
    """No record of one leaves community management undecided, never chosen."""
    for name, (resources, _) in CASES.items():
        assert _referral(resources)["decision"] != "no_referral", name


def test_the_card_names_the_record_a_previous_ectopic_came_from(client: Any) -> None:
    """The CDS card shows the progesterone decision; under "Data used" it names the record each
    fact read came from, the 2019 ectopic pregnancy among them."""
    resources, _ = CASES["condition-2019"]
    response = client.post(
        "/cds-services/ng126-progesterone",
        json=hook_request("patient-view", prefetch_for(resources)),
    )
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    used = card["detail"].split("**Data used**")[1].split("**Data that could not be used**")[0]
    lines = [line for line in used.splitlines() if "ectopic" in line]
    assert len(lines) == 1 and lines[0].endswith(": Condition/e1"), used
