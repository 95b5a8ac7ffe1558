"""The progesterone advice names the same NG126 1.4.x step as the viability-scan section (stop 42).

`scans.VIABILITY_STEPS` is written from the viability table's own expressions; these properties
hold the two together over generated episodes: the 1.4.x advice the progesterone section gives is
exactly the number the scan section cites when it asks for a rescan or a second opinion, and none
otherwise (a heartbeat seen, a second scan done, anything Unknown).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from earlypath import InputError, assess
from tests.pathway.strategies import episodes
from tests.spec.vignettes import load_vignettes

STEPS = ("rescan", "second_opinion_or_rescan")


def _named_steps(assessment: dict[str, Any]) -> list[str]:
    return [
        a["recommendation"]
        for a in assessment["progesterone"]["advice"]
        if a["id"].startswith("viability_")
    ]


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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(episodes())
def test_generated_episodes_name_the_step_the_scan_section_gives(episode: dict[str, Any]) -> None:
    try:
        assessment = assess(episode)
    except InputError:
        return
    assert _named_steps(assessment) == _scan_step(assessment)
