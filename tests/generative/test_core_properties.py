"""Properties of the progesterone decision over generated episodes (Hypothesis)."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings

from earlypath import assess
from earlypath.facts import episode_facts
from earlypath.model import parse_episode
from tests.generative.strategies import episodes

OUTCOMES = {"offer", "continue", "stop", "do_not_offer", "needs_information"}
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decision(episode: dict[str, Any]) -> str:
    return assess(episode)["progesterone"]["decision"]


def latest_location(episode: dict[str, Any]) -> str | None:
    """Where the rules place the pregnancy: the latest scan's location, but an ectopic seen
    before an unread report stands (stop 26: the report is then not an Unknown)."""
    return episode_facts(parse_episode(episode))["scan_location"]


@SETTINGS
@given(episodes())
def test_decision_is_a_total_function(episode: dict[str, Any]) -> None:
    a = assess(episode)
    p = a["progesterone"]
    assert p["decision"] in OUTCOMES
    if p["decision"] == "needs_information":
        assert p["missing"], "needs_information must name what is missing"
    else:
        assert p["missing"] == []
    assert (p["plan"] is not None) == (p["decision"] in ("offer", "continue"))


@SETTINGS
@given(episodes())
def test_never_offer_or_continue_without_a_scan_confirmed_iup(episode: dict[str, Any]) -> None:
    if decision(episode) in ("offer", "continue"):
        assert latest_location(episode) == "intrauterine"


def completions(episode: dict[str, Any]) -> list[dict[str, Any]]:
    """Every way of filling in the episode's Unknowns with definite values."""
    choices: list[list[tuple[str, Any]]] = []
    if episode["vaginal_bleeding"] is None:
        choices.append([("vaginal_bleeding", True), ("vaginal_bleeding", False)])
    if episode["previous_miscarriages"] is None:
        choices.append([("previous_miscarriages", 0), ("previous_miscarriages", 2)])
    if episode["miscarriage_diagnosed"] is None:
        choices.append([("miscarriage_diagnosed", True), ("miscarriage_diagnosed", False)])
    if not episode["scans"] or latest_location(episode) == "unknown":
        choices.append([("location", "intrauterine"), ("location", "ectopic")])
    elif latest_location(episode) == "report_not_read":
        # reading the report may show it anywhere, or nowhere (a pregnancy of unknown location)
        choices.append([("report", place) for place in ("intrauterine", "ectopic", "unknown")])
    if assess(episode)["gestation"] is None:
        day = dt.date.fromisoformat(episode["assessed_on"])
        first_scan = min((s["date"] for s in episode["scans"]), default=day.isoformat())
        # LMPs no later than the first scan (a scan cannot predate the LMP); ISO dates sort.
        lmps = {min((day - dt.timedelta(days=d)).isoformat(), first_scan) for d in (60, 112, 130)}
        choices.append([("lmp", lmp) for lmp in sorted(lmps)])
    out = []
    for combo in itertools.product(*choices):
        filled = copy.deepcopy(episode)
        for key, value in combo:
            if key == "report":
                latest = max(scan["date"] for scan in filled["scans"])
                for scan in filled["scans"]:
                    if scan["date"] == latest and scan["location"] == "report_not_read":
                        scan["location"] = value
            elif key == "location":
                later = dt.date.fromisoformat(episode["assessed_on"])
                filled["scans"].append({"date": later.isoformat(), "location": value})
            elif key == "lmp":
                filled["lmp"] = value
            else:
                filled[key] = value
        out.append(filled)
    return out


@SETTINGS
@given(episodes())
def test_unknowns_that_could_change_the_decision_give_needs_information(
    episode: dict[str, Any],
) -> None:
    """A definite decision holds whatever the Unknowns turn out to be; needs_information means
    that filling the Unknowns in could lead to different decisions."""
    verdict = decision(episode)
    outcomes = {decision(filled) for filled in completions(episode)}
    if verdict == "needs_information":
        assert len(outcomes) >= 2, outcomes
    else:
        assert outcomes <= {verdict}, (verdict, outcomes)
