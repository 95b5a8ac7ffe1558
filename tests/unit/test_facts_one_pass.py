"""`episode_facts` (one pass over the scans) against its first, direct reading (issue 16)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.facts import _hcg_facts, episode_facts
from earlypath.model import Episode, HcgSample, Scan, parse_episode
from earlypath.scan_location import location_now
from tests.pathway.strategies import episodes

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY = dt.date(2024, 3, 10)


def episode_facts_reference(episode: Episode) -> dict[str, Any]:
    """`episode_facts` as first written (a direct reading, slower): the oracle the one-pass
    version is held to (kept here, not in the package, as only these tests read it)."""
    latest = episode.latest_scan
    first_day = min((s.date for s in episode.scans if s.location == "intrauterine"), default=None)
    # that day's routes: transabdominal if any is, the one route if all agree, else Unknown
    first_routes = {
        s.route for s in episode.scans if s.location == "intrauterine" and s.date == first_day
    }
    dating = None
    for scan in sorted(episode.scans, key=lambda s: s.date):
        if scan.crl_mm is not None and scan.crl_mm > 0:
            dating = scan
            break
    return {
        "assessed_on": episode.assessed_on,
        "previous_miscarriages": episode.previous_miscarriages,
        "vaginal_bleeding": episode.vaginal_bleeding,
        "lmp": episode.lmp,
        "scan_date": latest.date if latest else None,
        "scan_route": latest.route if latest else None,
        # where the pregnancy is now: the latest scan's, an ectopic seen before an unread report
        # kept (stop 26, `location_now`, tested on its own in test_scan_location_now.py)
        "scan_location": location_now([(s.date, s.location) for s in episode.scans]),
        "fetal_pole": latest.fetal_pole if latest else None,
        "fetal_heartbeat": latest.fetal_heartbeat if latest else None,
        "crl_mm": latest.crl_mm if latest else None,
        "msd_mm": latest.msd_mm if latest else None,
        "dating_crl_mm": dating.crl_mm if dating else None,
        "dating_scan_date": dating.date if dating else None,
        "miscarriage_diagnosed": episode.miscarriage_diagnosed,
        "second_opinion_no_heartbeat": episode.second_opinion_no_heartbeat,
        "on_progesterone": episode.on_progesterone,
        "on_recommended_progesterone": episode.on_recommended_progesterone,
        "on_other_progestogen": episode.on_other_progestogen,
        "intrauterine_seen": any(s.location == "intrauterine" for s in episode.scans),
        "first_intrauterine_scan_date": min(
            (s.date for s in episode.scans if s.location == "intrauterine"), default=None
        ),
        "first_intrauterine_scan_route": (
            "transabdominal"
            if "transabdominal" in first_routes
            else first_routes.pop()
            if len(first_routes) == 1
            else None
        ),
        **_hcg_facts(list(episode.hcg)),
        "pain": episode.pain,
        "haemodynamically_unstable": episode.haemodynamically_unstable,
        "heavy_bleeding": episode.heavy_bleeding,
        "previous_ectopic": episode.previous_ectopic,
        "ectopic_ruptured": episode.ectopic_ruptured,
        "rhesus_d": episode.rhesus_d,
        "adnexal_mass_mm": episode.adnexal_mass_mm,
        "able_to_return_for_follow_up": episode.able_to_return_for_follow_up,
        "miscarriage_type": episode.miscarriage_type,
        "management": episode.management,
    }


def _same(episode: Episode) -> None:
    got, want = episode_facts(episode), episode_facts_reference(episode)
    assert list(got) == list(want)
    for name, value in want.items():
        assert type(got[name]) is type(value) and got[name] == value, name


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def tied_scans(draw: st.DrawFn) -> Scan:
    # Three days only: ties on the date (latest, dating and first intrauterine scan) are common.
    return Scan.model_construct(
        date=DAY - dt.timedelta(days=draw(st.integers(0, 2))),
        route=draw(st.sampled_from(["transvaginal", "transabdominal", None])),
        location=draw(st.sampled_from(["intrauterine", "ectopic", "unknown"])),
        fetal_pole=draw(maybe(st.booleans())),
        fetal_heartbeat=draw(maybe(st.booleans())),
        crl_mm=draw(maybe(st.sampled_from([0.0, 2.0, 2.5, 9.0]))),
        msd_mm=draw(maybe(st.sampled_from([5.0, 25.0]))),
    )


@SETTINGS
@given(st.lists(tied_scans(), max_size=4), st.integers(0, 2))
def test_one_pass_agrees_on_tied_scans(scans: list[Scan], samples: int) -> None:
    hcg = [
        HcgSample.model_construct(
            taken_at=dt.datetime(2024, 3, 1 + 2 * i, 9), iu_per_l=100.0 * (i + 1)
        )
        for i in range(samples)
    ]
    _same(Episode.model_construct(assessed_on=DAY, scans=scans, hcg=hcg))


@SETTINGS
@given(episodes())
def test_one_pass_agrees_on_pathway_episodes(episode: dict[str, Any]) -> None:
    _same(parse_episode(episode))


def test_the_scan_facts_are_the_latest_and_the_dating_scans() -> None:
    episode = parse_episode(
        {
            "assessed_on": "2024-03-10",
            "scans": [
                {
                    "date": "2024-03-08",
                    "location": "intrauterine",
                    "fetal_pole": True,
                    "crl_mm": 5.0,
                },
                {"date": "2024-03-02", "location": "unknown"},
                {"date": "2024-03-08", "location": "unknown", "fetal_pole": True, "crl_mm": 9.0},
            ],
        }
    )
    facts = episode_facts(episode)
    assert facts["scan_location"] == "unknown" and facts["crl_mm"] == 9.0  # the later on a tie
    assert facts["dating_crl_mm"] == 5.0  # the earliest with a CRL, the first on a tie
    assert facts["first_intrauterine_scan_date"] == dt.date(2024, 3, 8)
    assert facts["intrauterine_seen"] is True


def test_the_first_intrauterine_scan_route_on_its_day() -> None:
    """NG126 1.4.8/1.4.11 (stop 43, HAZ-11 C11.6): the first intrauterine scan's route decides
    the 14 days; on its day a transabdominal scan wins, and a route not recorded is Unknown,
    never transvaginal."""

    def first_route(*routes: str | None, later: str | None = "transvaginal") -> str | None:
        scans = [{"date": "2024-03-01", "location": "intrauterine", "route": r} for r in routes]
        scans.append({"date": "2024-03-09", "location": "intrauterine", "route": later})
        facts = episode_facts(parse_episode({"assessed_on": "2024-03-10", "scans": scans}))
        assert facts["scan_route"] == later  # the latest scan's own stays its own
        return facts["first_intrauterine_scan_route"]

    assert first_route("transvaginal") == "transvaginal"
    assert first_route("transabdominal", later=None) == "transabdominal"
    assert first_route(None) is None
    assert first_route("transvaginal", None) is None
    assert first_route(None, "transabdominal", "transvaginal") == "transabdominal"
    assert first_route("transvaginal", "transvaginal") == "transvaginal"
