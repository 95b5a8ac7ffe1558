"""Hypothesis strategies for valid episodes, leaning on the boundaries and on Unknowns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

FIRST_DAY = dt.date(2019, 4, 17)
LAST_DAY = dt.date(2026, 11, 1)
# Gestations near the edges that matter (16+0 = 112, 16+6 = 118) come up often.
GESTATION_DAYS = st.one_of(st.integers(20, 150), st.sampled_from([111, 112, 113, 117, 118, 119]))
CRL_MM = st.one_of(
    st.floats(0.5, 84.0, allow_nan=False), st.sampled_from([6.9, 7.0, 7.1, 84.0, 84.1, 90.0])
)


@st.composite
def scans(draw: Any, assessed_on: dt.date, lmp: dt.date | None) -> list[dict[str, Any]]:
    # Without an LMP, keep scans within 100 days: an older scan would itself bound gestation
    # above 16+0, an inference the engine deliberately does not make (it asks for the LMP).
    earliest = lmp or (assessed_on - dt.timedelta(days=100))
    span = (assessed_on - earliest).days
    out = []
    for _ in range(draw(st.integers(0, 3))):
        date = earliest + dt.timedelta(days=draw(st.integers(0, span)))
        pole = draw(st.sampled_from([True, False, None]))
        scan: dict[str, Any] = {
            "date": date.isoformat(),
            "location": draw(
                st.sampled_from(
                    ["intrauterine", "intrauterine", "ectopic", "unknown", "report_not_read"]
                )
            ),
            "route": draw(st.sampled_from(["transvaginal", "transabdominal"])),
            "fetal_pole": pole,
            "fetal_heartbeat": None
            if pole is False
            else draw(st.sampled_from([True, False, None])),
        }
        if pole is not False and draw(st.booleans()):
            scan["crl_mm"] = draw(CRL_MM)
        if draw(st.booleans()):
            scan["msd_mm"] = draw(st.floats(0, 120, allow_nan=False))
        out.append(scan)
    return out


@st.composite
def episodes(draw: Any) -> dict[str, Any]:
    assessed_on = draw(st.dates(FIRST_DAY, LAST_DAY))
    lmp = None
    if draw(st.booleans()):
        lmp = assessed_on - dt.timedelta(days=min(draw(GESTATION_DAYS), 315))
    episode: dict[str, Any] = {
        "assessed_on": assessed_on.isoformat(),
        "previous_miscarriages": draw(st.sampled_from([None, 0, 1, 2, 3, 5])),
        "vaginal_bleeding": draw(st.sampled_from([None, True, False])),
        "lmp": lmp.isoformat() if lmp else None,
        "scans": draw(scans(assessed_on, lmp)),
        "miscarriage_diagnosed": draw(st.sampled_from([None, False, True])),
        "on_progesterone": draw(st.booleans()),
        "allergies": draw(st.sampled_from([[], ["peanut"], ["Soya"], ["penicillin"]])),
    }
    return episode
