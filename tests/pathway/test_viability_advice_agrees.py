"""The progesterone advice names the same NG126 1.4.x step as the viability-scan section (stop 42).

`scans.VIABILITY_STEPS` is written from the viability table's own expressions; these properties
hold the two together over generated episodes: the 1.4.x advice the progesterone section gives is
exactly the number the scan section cites when it asks for a rescan or a second opinion, and none
otherwise (a heartbeat seen, a second scan done, anything Unknown). The steps named for each route
when the scan's route is not recorded (``..._route_unknown``, stop 43) come only where the scan
section asks for ``scans.route``: one transabdominal step (1.4.8 or 1.4.11), and the transvaginal
one its measurement gives, if known; or, 7 to 13 days after the first scan, the one step saying
what each route means for the second scan.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath import InputError, assess
from tests.pathway.strategies import episodes
from tests.spec.vignettes import load_vignettes

STEPS = ("rescan", "second_opinion_or_rescan")
ROUTE_UNKNOWN = "_route_unknown"  # also ends "_second_scan_route_unknown"
SECOND_SCAN = "_second_scan_route_unknown"


def _named_steps(assessment: dict[str, Any]) -> list[str]:
    return [
        a["recommendation"]
        for a in assessment["progesterone"]["advice"]
        if a["id"].startswith("viability_") and not a["id"].endswith(ROUTE_UNKNOWN)
    ]


def _route_unknown_steps_agree(assessment: dict[str, Any]) -> None:
    numbers = [
        a["recommendation"]
        for a in assessment["progesterone"]["advice"]
        if a["id"].endswith(ROUTE_UNKNOWN)
    ]
    if not numbers:
        return
    scan = assessment["scan_assessment"]
    assert scan["decision"] == "needs_information" and "scans.route" in scan["missing"]
    if any(a["id"].endswith(SECOND_SCAN) for a in assessment["progesterone"]["advice"]):
        assert numbers in (["1.4.8"], ["1.4.11"]), numbers  # 7 to 13 days: one, alone
        return
    *transvaginal, transabdominal = numbers
    assert transabdominal in ("1.4.8", "1.4.11")
    assert transvaginal in ([], ["1.4.6"], ["1.4.7"], ["1.4.9"], ["1.4.10"])


def _scan_step(assessment: dict[str, Any]) -> list[str]:
    scan = assessment["scan_assessment"]
    return list(scan["recommendations"]) if scan["decision"] in STEPS else []


def test_every_vignette_names_the_step_the_scan_section_gives() -> None:
    for v in load_vignettes():
        try:
            assessment = assess(v.episode)
        except InputError:
            continue
        assert _named_steps(assessment) == _scan_step(assessment), v.id
        _route_unknown_steps_agree(assessment)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(episodes(), st.lists(st.booleans(), min_size=2, max_size=2))
def test_generated_episodes_name_the_step_the_scan_section_gives(
    episode: dict[str, Any], route_unknown: list[bool]
) -> None:
    # some scans with their route not recorded (as most real records are)
    for scan, unknown in zip(episode.get("scans") or [], route_unknown, strict=False):
        if unknown:
            scan["route"] = None
    try:
        assessment = assess(episode)
    except InputError:
        return
    assert _named_steps(assessment) == _scan_step(assessment)
    _route_unknown_steps_agree(assessment)
