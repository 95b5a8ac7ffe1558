"""The progesterone card names the NG126 1.4.x step a scan with no heartbeat calls for (stop 42;
HAZ-11 C11.3).

A fetal heart rate of 0/min beside a crown-rump length: the card still offers progesterone (it may
start before a heartbeat is seen), and its detail says, with the number and version, that one
scan does not diagnose a miscarriage: 1.4.7 (CRL 7.0 mm or more: a second opinion and/or a second
scan at least 7 days later) or 1.4.6 (under 7.0 mm: a second scan), the CRL's method saying the
scan was transvaginal (a record naming no route names no step: test_cds_scan_route.py). An MSD
alone says nothing of the fetal pole (Unknown), so no 1.4.9/1.4.10 step is named from a record;
those, and the transabdominal steps, are the engine's vignettes
(tests/spec/vignettes/progesterone.json, ``viability-*``). Through the ASGI app.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.fhir_data import (
    LOINC,
    bleeding,
    crl,
    day,
    hook_request,
    iup,
    lmp,
    observation,
    prefetch_for,
    previous_miscarriage,
)

PV = "/cds-services/ng126-progesterone"
RESCAN = "No fetal heartbeat has been confirmed yet"
STEP_1_4_7 = (
    "**Advice (1.4.7)**: No heartbeat with a crown-rump length of 7.0 mm or more (transvaginal): "
    "do not diagnose a miscarriage on this scan alone; get a second opinion on viability and/or a "
    "second scan at least 7 days after it."
)
STEP_1_4_6 = (
    "**Advice (1.4.6)**: No heartbeat with a crown-rump length under 7.0 mm (transvaginal): do "
    "not diagnose a miscarriage on this scan; a second scan at least 7 days after it."
)
CITED = "- NG126 {number} (version 2023-08-23)"


def heart_rate(per_minute: float) -> dict[str, Any]:
    """A fetal heart rate (LOINC 11948-7 "Fetal Heart rate US"), taken today."""
    quantity = {"value": per_minute, "unit": "/min", "system": "http://unitsofmeasure.org"}
    return observation("fhr", LOINC, "11948-7", day(), valueQuantity={**quantity, "code": "/min"})


def msd(value: float) -> dict[str, Any]:
    """A mean sac diameter (LOINC 11850-5), today, with no crown-rump length."""
    quantity = {"value": value, "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm"}
    return observation("msd", LOINC, "11850-5", day(), valueQuantity=quantity)


def _card(client: Any, measurement: dict[str, Any], per_minute: float) -> dict[str, Any]:
    record = [previous_miscarriage(), bleeding(), lmp(), iup(), measurement, heart_rate(per_minute)]
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(record)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


@pytest.mark.parametrize(
    ("crl_mm", "step", "number"),
    [(9.5, STEP_1_4_7, "1.4.7"), (7.0, STEP_1_4_7, "1.4.7"), (5.0, STEP_1_4_6, "1.4.6")],
    ids=["crl-9.5", "crl-7.0", "crl-5.0"],
)
def test_no_heartbeat_beside_a_crl_names_the_viability_step(
    client: Any, crl_mm: float, step: str, number: str
) -> None:
    transvaginal = {"coding": [{"system": "http://snomed.info/sct", "code": "54300008"}]}
    card = _card(client, {**crl(crl_mm), "method": transvaginal}, 0)
    assert card["summary"].startswith("Offer"), card["summary"]  # the decision does not change
    detail = card["detail"].replace("\\", "")  # Markdown's escapes (the parentheses) taken out
    assert RESCAN in detail
    assert step in detail, detail
    assert CITED.format(number=number) in detail, detail
    # one step only: the other CRL step is not named
    other = "1.4.6" if number == "1.4.7" else "1.4.7"
    assert f"**Advice ({other})**" not in detail


def test_a_heartbeat_seen_names_no_step(client: Any) -> None:
    detail = _card(client, crl(9.5), 148)["detail"]
    assert RESCAN not in detail
    assert "**Advice (1.4." not in detail
    assert "- NG126 1.4." not in detail


def test_an_msd_alone_names_no_step_but_the_rescan_stands(client: Any) -> None:
    """No CRL: whether there is a fetal pole is Unknown, so neither 1.4.9 nor 1.4.10 is chosen
    (never a guess); the 1.5.3 rescan advice still says the heartbeat is not confirmed."""
    card = _card(client, msd(27.0), 0)
    assert card["summary"].startswith("Offer"), card["summary"]
    assert RESCAN in card["detail"]
    assert "**Advice (1.4." not in card["detail"]
