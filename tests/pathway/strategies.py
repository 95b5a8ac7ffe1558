"""Hypothesis strategies for whole episodes, including the pathway fields and their Unknowns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

FIRST_DAY = dt.date(2019, 5, 1)
LAST_DAY = dt.date(2025, 12, 31)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def scans(draw: st.DrawFn, earliest: dt.date, latest: dt.date) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(0, 2))):
        pole = draw(maybe(st.booleans()))
        heartbeat = (
            draw(maybe(st.booleans()))
            if pole is not False
            else draw(st.sampled_from([None, False]))
        )
        scan: dict[str, Any] = {
            "date": draw(st.dates(earliest, latest)).isoformat(),
            "route": draw(st.sampled_from(["transvaginal", "transabdominal"])),
            "location": draw(
                st.sampled_from(["intrauterine", "ectopic", "unknown", "report_not_read"])
            ),
            "fetal_pole": pole,
            "fetal_heartbeat": heartbeat,
            "msd_mm": draw(maybe(st.sampled_from([5.0, 24.9, 25.0, 40.0]))),
        }
        if pole is not False:
            scan["crl_mm"] = draw(maybe(st.sampled_from([2.0, 6.9, 7.0, 7.1, 30.0])))
        out.append(scan)
    return out


@st.composite
def hcg_samples(draw: st.DrawFn, assessed_on: dt.date) -> list[dict[str, Any]]:
    start = dt.datetime.combine(assessed_on, dt.time()) - dt.timedelta(days=6)
    out = []
    for _ in range(draw(st.integers(0, 3))):
        minutes = draw(st.integers(0, 7 * 24 * 60 - 1))
        value = draw(st.sampled_from([0, 20, 999.9, 1000, 1000.1, 1499, 1500, 4999, 5000, 12000]))
        out.append(
            {"taken_at": (start + dt.timedelta(minutes=minutes)).isoformat(), "iu_per_l": value}
        )
    return out


@st.composite
def episodes(draw: st.DrawFn) -> dict[str, Any]:
    assessed_on = draw(st.dates(FIRST_DAY, LAST_DAY))
    lmp = draw(maybe(st.integers(20, 120)))
    lmp_date = assessed_on - dt.timedelta(days=lmp) if lmp is not None else None
    diagnosed = draw(maybe(st.booleans()))  # None: may be this pregnancy's loss (stop 25)
    episode = {
        "assessed_on": assessed_on.isoformat(),
        "lmp": lmp_date.isoformat() if lmp_date else None,
        "previous_miscarriages": draw(maybe(st.integers(0, 4))),
        "vaginal_bleeding": draw(maybe(st.booleans())),
        "on_progesterone": draw(st.booleans()),
        "miscarriage_diagnosed": diagnosed,
        "scans": draw(scans(lmp_date or assessed_on - dt.timedelta(days=30), assessed_on)),
        "hcg": draw(hcg_samples(assessed_on)),
        "pain": draw(maybe(st.sampled_from(["none", "mild", "significant"]))),
        "haemodynamically_unstable": draw(maybe(st.booleans())),
        "previous_ectopic": draw(maybe(st.booleans())),
        "ectopic_ruptured": draw(maybe(st.booleans())),
        "rhesus_d": draw(maybe(st.sampled_from(["negative", "positive"]))),
        "adnexal_mass_mm": draw(maybe(st.sampled_from([0.0, 20.0, 34.9, 35.0, 60.0]))),
        "able_to_return_for_follow_up": draw(maybe(st.booleans())),
        "management": draw(maybe(st.sampled_from(["expectant", "medical", "surgical"]))),
        "miscarriage_type": draw(maybe(st.sampled_from(["missed", "incomplete", "complete"])))
        if diagnosed
        else None,
    }
    # A second opinion that there is no heartbeat needs a latest scan without one.
    scans_drawn = episode["scans"]
    latest = max(enumerate(scans_drawn), key=lambda p: (p[1]["date"], p[0]), default=None)
    if latest is not None and latest[1]["fetal_heartbeat"] is not True:
        episode["second_opinion_no_heartbeat"] = draw(st.booleans())
    # A concern about heavy bleeding needs bleeding (the contract rejects true with false).
    bleeding = episode["vaginal_bleeding"]
    episode["heavy_bleeding"] = (
        draw(maybe(st.booleans())) if bleeding is not False else draw(maybe(st.just(False)))
    )
    return episode


# Fields that are plain Unknown-or-value (None = unknown) and the values they can take.
FILLABLE: dict[str, list[Any]] = {
    "pain": ["none", "mild", "significant"],
    "haemodynamically_unstable": [True, False],
    "heavy_bleeding": [True, False],
    "previous_ectopic": [True, False],
    "ectopic_ruptured": [True, False],
    "rhesus_d": ["negative", "positive"],
    "adnexal_mass_mm": [0.0, 34.9, 35.0, 80.0],
    "able_to_return_for_follow_up": [True, False],
    "management": ["expectant", "medical", "surgical"],
    "vaginal_bleeding": [True, False],
    "previous_miscarriages": [0, 1, 3],
    "miscarriage_diagnosed": [True, False],
}

# The latest scan's fields that may be unknown, and the values they can take.
SCAN_FILLABLE: dict[str, list[Any]] = {
    "fetal_pole": [True, False],
    "fetal_heartbeat": [True, False],
    "msd_mm": [5.0, 24.9, 25.0, 40.0],
}
