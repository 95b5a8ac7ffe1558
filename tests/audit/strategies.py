"""Hypothesis strategies for flat cohort rows: boundaries, Unknowns and (optionally) broken rows."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from hypothesis import strategies as st

FIRST_DAY = dt.date(2019, 4, 17)
LAST_DAY = dt.date(2026, 11, 1)
DAY = dt.timedelta(days=1)


def _crl_for(days_on_scan_day: int) -> float:
    # The CRL whose Robinson-Fleming gestation (+0.5, floored) is exactly this many days.
    return ((days_on_scan_day - 0.5 - 23.73) / 8.052) ** 2


# CRLs that land on (or a hair either side of) a whole-day rounding edge, and the 84 mm limit.
_EDGE = [_crl_for(d) for d in range(40, 99)]
CRL = st.one_of(
    st.floats(0.0, 120.0, allow_nan=False, allow_infinity=False),
    st.sampled_from(_EDGE),
    st.sampled_from(_EDGE).map(lambda x: math.nextafter(x, 0.0)),
    st.sampled_from(_EDGE).map(lambda x: math.nextafter(x, 200.0)),
    st.sampled_from([0.0, 0.1, 6.9, 7.0, 84.0, math.nextafter(84.0, 100.0), 120.0]),
)
# LMP gestations around 16+0 (112) and 16+6 (118), and around the 45-week limit (315).
LMP_DAYS = st.one_of(
    st.integers(0, 320), st.sampled_from([110, 111, 112, 113, 117, 118, 119, 314, 315, 316])
)
VERSION_DATES = st.sampled_from(
    [
        dt.date(2019, 4, 17),
        dt.date(2021, 11, 23),
        dt.date(2021, 11, 24),
        dt.date(2023, 8, 22),
        dt.date(2023, 8, 23),
    ]
)


@st.composite
def flat_rows(draw: Any, broken: bool = False) -> dict[str, Any]:
    """One typed flat row. With ``broken``, impossible values and missing ids come up too."""
    assessed = draw(st.one_of(st.dates(FIRST_DAY, LAST_DAY), VERSION_DATES))
    if broken and draw(st.integers(0, 9)) == 0:
        assessed = draw(st.dates(dt.date(2018, 1, 1), FIRST_DAY - DAY))
    lmp = None
    if draw(st.integers(0, 3)):
        lmp = assessed - draw(LMP_DAYS) * DAY
        if broken and draw(st.integers(0, 9)) == 0:
            lmp = assessed + draw(st.integers(1, 20)) * DAY
    row: dict[str, Any] = {
        "assessed_on": assessed,
        "guideline_version": draw(
            st.sampled_from(
                [None] * 8 + ["2019-04-17", "2021-11-24"] + (["1999-01-01"] if broken else [])
            )
        ),
        "previous_miscarriages": draw(
            st.sampled_from([None, 0, 1, 2, 3] + ([-1, 51, 50] if broken else []))
        ),
        "vaginal_bleeding": draw(st.sampled_from([None, True, False])),
        "lmp": lmp,
        "miscarriage_diagnosed": draw(st.sampled_from([None, False, False, True])),
        "on_progesterone": draw(st.sampled_from([None, False, False, True])),
        "allergies": draw(
            st.sampled_from([None, "peanut", "penicillin; soya"] + (["x" * 201] if broken else []))
        ),
        "progesterone_prescribed": draw(st.sampled_from([None, True, False])),
        "prescribed_on": None,
        "site": draw(st.sampled_from(["a", "b", None])),
    }
    if draw(st.integers(0, 4)):
        back = draw(st.one_of(st.integers(0, 30), st.sampled_from([0, 13, 14, 15, 20, 21])))
        scan = assessed - back * DAY
        if lmp is not None and scan < lmp and not (broken and draw(st.booleans())):
            scan = lmp
        if broken and draw(st.integers(0, 14)) == 0:
            scan = assessed + DAY
        pole = draw(st.sampled_from([True, True, False, None]))
        heartbeat = draw(st.sampled_from([True, False, None]))
        if pole is False and heartbeat is True and not broken:
            heartbeat = None
        crl = draw(st.one_of(st.none(), CRL)) if pole is not False or broken else None
        if broken and crl is not None and draw(st.integers(0, 9)) == 0:
            crl = draw(st.sampled_from([-0.1, 120.1, 500.0]))
        row.update(
            scan_date=scan,
            scan_route=draw(st.sampled_from([None, "transvaginal", "transabdominal"])),
            scan_location=draw(
                st.sampled_from(
                    ["intrauterine", "intrauterine", "ectopic", "unknown", "report_not_read", None]
                )
            ),
            fetal_pole=pole,
            fetal_heartbeat=heartbeat,
            crl_mm=crl,
            # a CRL not known to be verified (stop 45): viability only, never dating
            crl_unverified=draw(st.sampled_from([None, None, True, False])),
            msd_mm=draw(st.one_of(st.none(), st.floats(0, 120, allow_nan=False))),
        )
    elif broken and draw(st.integers(0, 9)) == 0:
        row["fetal_heartbeat"] = True  # a finding without a scan date
    return row


@st.composite
def cohorts(draw: Any, min_size: int = 1, max_size: int = 40, broken: bool = False) -> list[dict]:
    rows = draw(st.lists(flat_rows(broken=broken), min_size=min_size, max_size=max_size))
    for i, row in enumerate(rows):
        row["episode_id"] = f"e{i}"
    if broken and rows and draw(st.booleans()):
        rows[-1]["episode_id"] = rows[0]["episode_id"]  # a duplicate id
    if broken and len(rows) > 2 and draw(st.booleans()):
        rows[1]["episode_id"] = None
    return rows
