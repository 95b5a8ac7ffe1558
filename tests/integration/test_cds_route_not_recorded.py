"""A record whose scans name no route (no ``Observation.method``, as most real records), through
the ASGI app's CDS patient-view (stop 43, w-second43; NG126 1.4.6-1.4.11; HAZ-11 C11.6, C11.7).

- One scan, no heartbeat (a heart rate of 0/min), CRL 9 mm: the card names what NICE asks on
  each route, each cited with the version: 1.4.7 if it was transvaginal (a second opinion and/or
  a second scan at least 7 days later), 1.4.8 if transabdominal (at least 14 days). The offer,
  which does not depend on the route, stands.
- Two such scans 9 days apart (the pregnancy in the uterus on both): the latest is NICE's second
  scan only if the first was transvaginal (14 days after a transabdominal one, 1.4.8), so the
  card says what each route means (never that the second scan is done; was: silently taken as
  done); 15 days apart it is the second scan whatever the route. The offer stands in all.
- A transabdominal first scan then a transvaginal one 9 days later (both routes recorded): not
  the second scan (was: taken as it); the latest scan's own step, 1.4.7, is named.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.fhir_data import (
    bleeding,
    crl,
    day,
    hook_request,
    iup,
    lmp,
    prefetch_for,
    previous_miscarriage,
)
from tests.records.scan_route_shapes import no_heartbeat

PV = "/cds-services/ng126-progesterone"
RESCAN = "No fetal heartbeat has been confirmed yet"
TRANSVAGINAL_STEP = (
    "**Advice (1.4.7)**: No heartbeat with a crown-rump length of 7.0 mm or more, and the scan's "
    "route is not recorded: do not diagnose a miscarriage on this scan alone. If it was "
    "transvaginal: get a second opinion on viability and/or a second scan at least 7 days after "
    "it. Record the route."
)
TRANSABDOMINAL_STEP = (
    "**Advice (1.4.8)**: No heartbeat, with a crown-rump length measured, and the scan's route is "
    "not recorded: if it was transabdominal, record its size; a second scan at least 14 days "
    "after it before diagnosing a miscarriage."
)
SECOND_SCAN_STEP = (
    "**Advice (1.4.8)**: No heartbeat on a scan 7 to 13 days after the first scan that showed the "
    "pregnancy in the uterus, and a scan's route is not recorded: if both were transvaginal, this "
    "is the second scan NICE asks for before a miscarriage is diagnosed; if either was "
    "transabdominal, NICE asks for a second scan at least 14 days after the first scan. Record "
    "the routes."
)
CITED = "- NG126 {number} (version 2023-08-23)"


def _earlier_scan(days_before: int) -> list[dict[str, Any]]:
    """The pregnancy in the uterus and a CRL of 6 mm, ``days_before`` today, no method."""
    seen, measured = iup(day(-days_before)), crl(6.0, on=day(-days_before))
    return [{**seen, "id": "iup-earlier"}, {**measured, "id": "crl-earlier"}]


def _detail(client: Any, earlier: list[dict[str, Any]]) -> tuple[str, str]:
    record = [previous_miscarriage(), bleeding(), lmp(), *earlier, iup(), crl(9.0), no_heartbeat()]
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(record)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card["summary"], card["detail"].replace("\\", "")  # Markdown's escapes taken out


def test_one_scan_with_no_route_names_each_routes_step(client: Any) -> None:
    summary, detail = _detail(client, [])
    assert summary.startswith("Offer"), summary
    assert RESCAN in detail
    assert TRANSVAGINAL_STEP in detail, detail
    assert TRANSABDOMINAL_STEP in detail, detail
    assert CITED.format(number="1.4.7") in detail and CITED.format(number="1.4.8") in detail
    assert detail.index(TRANSVAGINAL_STEP) < detail.index(TRANSABDOMINAL_STEP)


@pytest.mark.parametrize("days_apart", [9, 13], ids=["9-days", "13-days"])
def test_a_second_scan_under_14_days_with_no_route_is_not_taken_as_done(
    client: Any, days_apart: int
) -> None:
    summary, detail = _detail(client, _earlier_scan(days_apart))
    assert summary.startswith("Offer"), summary  # the offer does not depend on the route
    assert RESCAN in detail
    # Never "done": what each route means, cited with the version; no first scan's step.
    assert SECOND_SCAN_STEP in detail, detail
    assert CITED.format(number="1.4.8") in detail
    assert TRANSVAGINAL_STEP not in detail and TRANSABDOMINAL_STEP not in detail


def test_a_second_scan_14_days_or_more_later_is_done_whatever_the_route(client: Any) -> None:
    summary, detail = _detail(client, _earlier_scan(15))
    assert summary.startswith("Offer"), summary
    assert "**Advice (1.4." not in detail, detail


def test_a_transabdominal_first_scan_needs_14_days(client: Any) -> None:
    transabdominal = {"coding": [{"system": "http://snomed.info/sct", "code": "66739002"}]}
    transvaginal = {"coding": [{"system": "http://snomed.info/sct", "code": "54300008"}]}
    seen, measured = _earlier_scan(9)
    earlier = [seen, {**measured, "method": transabdominal}]  # the CRL measured transabdominally
    record = [previous_miscarriage(), bleeding(), lmp(), *earlier, iup()]
    record += [{**crl(9.0), "method": transvaginal}, no_heartbeat()]
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(record)))
    (card,) = response.json()["cards"]
    detail = card["detail"].replace("\\", "")
    assert card["summary"].startswith("Offer"), card["summary"]
    assert (
        "**Advice (1.4.7)**: No heartbeat with a crown-rump length of 7.0 mm or more "
        "(transvaginal)" in detail
    ), detail
