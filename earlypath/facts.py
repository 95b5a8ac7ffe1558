"""The flat facts the rules read, and how an `Episode` becomes them.

The same names are the audit's flat cohort columns, so the batch engines read a table with these
columns and the reference engine reads this dict: one vocabulary for every engine.
"""

from __future__ import annotations

from typing import Any

from earlypath.model import Episode
from earlypath.rules.ir import Fact

ASSESSED_ON = Fact("assessed_on", "date")
PREVIOUS_MISCARRIAGES = Fact("previous_miscarriages", "int")
VAGINAL_BLEEDING = Fact("vaginal_bleeding", "bool")
LMP = Fact("lmp", "date")
# The latest scan: it describes the pregnancy now.
SCAN_DATE = Fact("scan_date", "date")
SCAN_ROUTE = Fact("scan_route", "str")
SCAN_LOCATION = Fact("scan_location", "str")
FETAL_POLE = Fact("fetal_pole", "bool")
FETAL_HEARTBEAT = Fact("fetal_heartbeat", "bool")
CRL_MM = Fact("crl_mm", "float")
MSD_MM = Fact("msd_mm", "float")
# The dating scan: the earliest scan with a crown-rump length (a pregnancy is dated once).
DATING_CRL_MM = Fact("dating_crl_mm", "float")
DATING_SCAN_DATE = Fact("dating_scan_date", "date")
MISCARRIAGE_DIAGNOSED = Fact("miscarriage_diagnosed", "bool")
ON_PROGESTERONE = Fact("on_progesterone", "bool")

ALL_FACTS: tuple[Fact, ...] = (
    ASSESSED_ON,
    PREVIOUS_MISCARRIAGES,
    VAGINAL_BLEEDING,
    LMP,
    SCAN_DATE,
    SCAN_ROUTE,
    SCAN_LOCATION,
    FETAL_POLE,
    FETAL_HEARTBEAT,
    CRL_MM,
    MSD_MM,
    DATING_CRL_MM,
    DATING_SCAN_DATE,
    MISCARRIAGE_DIAGNOSED,
    ON_PROGESTERONE,
)


def episode_facts(episode: Episode) -> dict[str, Any]:
    """Flatten an episode into the facts the rules read (``None`` = unknown)."""
    latest = episode.latest_scan
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
        "scan_location": latest.location if latest else None,
        "fetal_pole": latest.fetal_pole if latest else None,
        "fetal_heartbeat": latest.fetal_heartbeat if latest else None,
        "crl_mm": latest.crl_mm if latest else None,
        "msd_mm": latest.msd_mm if latest else None,
        "dating_crl_mm": dating.crl_mm if dating else None,
        "dating_scan_date": dating.date if dating else None,
        "miscarriage_diagnosed": episode.miscarriage_diagnosed,
        "on_progesterone": episode.on_progesterone,
    }
