"""Every section's advice on every engine (stop 45; issue 12 item 4, a batch assess for every
section; HAZ-09 C09.2). The batch engines packed the progesterone section's advice only: the
anti-D section's "confirm the miscarriage first" (given when a second opinion on the missing
heartbeat is not recorded as confirming it, or is Unknown) was given by the python engine alone,
though the batch engines assess the anti-D section too. Now each section's main table's advice,
by id, as the python engine gives it.
"""

from __future__ import annotations

from typing import Any

from earlypath import assess
from earlypath.engines.batch import section_names

# A missed miscarriage at surgery, RhD negative: an MSD of 25 mm with no fetal pole (NG126
# 1.4.10: a second opinion or a second scan confirms it). The second opinion: confirming, not,
# and not recorded (Unknown: the advice is given too, never read as confirmed).
_BASE: dict[str, Any] = {
    "assessed_on": "2021-11-20",
    "lmp": "2021-09-27",
    "miscarriage_diagnosed": True,
    "miscarriage_type": "missed",
    "management": "surgical",
    "rhesus_d": "negative",
    "scans": [
        {
            "date": "2021-09-27",
            "route": "transvaginal",
            "location": "intrauterine",
            "fetal_pole": False,
            "fetal_heartbeat": False,
            "msd_mm": 25.0,
        }
    ],
}
EPISODES = (
    {**_BASE, "second_opinion_no_heartbeat": True},
    {**_BASE, "second_opinion_no_heartbeat": False},
    _BASE,
)
CONFIRM_FIRST = "miscarriage_not_yet_confirmed"


def _ids(advice: list[Any]) -> list[str]:
    return [a if isinstance(a, str) else a["id"] for a in advice]


def test_anti_d_says_confirm_the_miscarriage_first_on_every_engine(engine: Any) -> None:
    got = [_ids(a["anti_d"]["advice"]) for a in engine.assess_many(EPISODES)]
    assert got == [[], [CONFIRM_FIRST], [CONFIRM_FIRST]]


def test_every_sections_advice_is_the_python_engines(engine: Any) -> None:
    got = engine.assess_many(EPISODES)
    for episode, assessment in zip(EPISODES, got, strict=True):
        reference = assess(episode)
        for name in section_names():
            assert _ids(assessment[name]["advice"]) == _ids(reference[name]["advice"]), name
