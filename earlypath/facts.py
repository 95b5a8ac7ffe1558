"""The flat facts the rules read, and how an `Episode` becomes them.

The same names are the audit's flat cohort columns, so the batch engines read a table with these
columns and the reference engine reads this dict: one vocabulary for every engine.
"""

from __future__ import annotations

from typing import Any

from earlypath.model import Episode
from earlypath.model.episode import HcgSample, Scan
from earlypath.rules.ir import Fact
from earlypath.scan_location import REPORT_NOT_READ, location_now

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
SECOND_OPINION = Fact("second_opinion_no_heartbeat", "bool")  # never Unknown (default False)
ON_PROGESTERONE = Fact("on_progesterone", "bool")
ON_RECOMMENDED_PROGESTERONE = Fact("on_recommended_progesterone", "bool")
# A current medicine of hers identified as a progestogen that is not progesterone (stop 53):
# never Unknown (default False); it says why `on_progesterone` is Unknown for her.
ON_OTHER_PROGESTOGEN = Fact("on_other_progestogen", "bool")
# Any scan (not only the latest) showed an intrauterine pregnancy: never Unknown.
INTRAUTERINE_SEEN = Fact("intrauterine_seen", "bool")
# The earliest scan that showed an intrauterine pregnancy (for NG126's "second scan at least 7
# (or 14) days after the first" before a miscarriage is diagnosed); None if none did.
FIRST_INTRAUTERINE_SCAN_DATE = Fact("first_intrauterine_scan_date", "date")
# Its route (NG126 1.4.8/1.4.11: a measurement made transabdominally needs the second scan at
# least 14 days after it): None when not recorded, or no scan showed the pregnancy in the uterus.
FIRST_INTRAUTERINE_SCAN_ROUTE = Fact("first_intrauterine_scan_route", "str")
# Serum hCG: the pair for the 48-hour ratio is chosen in `episode_facts` (see `choose_hcg_pair`).
HCG_COUNT = Fact("hcg_count", "int")  # never Unknown: 0 when there are no results
HCG_FIRST_IU = Fact("hcg_first_iu", "float")
HCG_SECOND_IU = Fact("hcg_second_iu", "float")
HCG_HOURS_APART = Fact("hcg_hours_apart", "float")
HCG_SECOND_DATE = Fact("hcg_second_date", "date")
HCG_TOO_CLOSE = Fact("hcg_too_close", "bool")  # 2+ results, but no two at least 48 h apart
HCG_LATEST_IU = Fact("hcg_latest_iu", "float")
HCG_LATEST_DATE = Fact("hcg_latest_date", "date")
PAIN = Fact("pain", "str")
HAEMODYNAMICALLY_UNSTABLE = Fact("haemodynamically_unstable", "bool")
HEAVY_BLEEDING = Fact("heavy_bleeding", "bool")  # significant concern about the bleeding
PREVIOUS_ECTOPIC = Fact("previous_ectopic", "bool")
ECTOPIC_RUPTURED = Fact("ectopic_ruptured", "bool")
RHESUS_D = Fact("rhesus_d", "str")
ADNEXAL_MASS_MM = Fact("adnexal_mass_mm", "float")
ABLE_TO_RETURN = Fact("able_to_return_for_follow_up", "bool")
MISCARRIAGE_TYPE = Fact("miscarriage_type", "str")
MANAGEMENT = Fact("management", "str")

# The shortest interval between two hCG samples that NG126 (1.4.27) lets us compare.
HCG_MIN_HOURS = 48.0

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
    SECOND_OPINION,
    ON_PROGESTERONE,
    ON_RECOMMENDED_PROGESTERONE,
    ON_OTHER_PROGESTOGEN,
    INTRAUTERINE_SEEN,
    FIRST_INTRAUTERINE_SCAN_DATE,
    FIRST_INTRAUTERINE_SCAN_ROUTE,
    HCG_COUNT,
    HCG_FIRST_IU,
    HCG_SECOND_IU,
    HCG_HOURS_APART,
    HCG_SECOND_DATE,
    HCG_TOO_CLOSE,
    HCG_LATEST_IU,
    HCG_LATEST_DATE,
    PAIN,
    HAEMODYNAMICALLY_UNSTABLE,
    HEAVY_BLEEDING,
    PREVIOUS_ECTOPIC,
    ECTOPIC_RUPTURED,
    RHESUS_D,
    ADNEXAL_MASS_MM,
    ABLE_TO_RETURN,
    MISCARRIAGE_TYPE,
    MANAGEMENT,
)


def choose_hcg_pair(samples: list[HcgSample]) -> tuple[int, int] | None:
    """Indices ``(first, second)`` of the two hCG results to compare, or None.

    NG126 1.4.27: two samples as close as possible to 48 hours apart, and never earlier (the
    1.63 and 0.50 thresholds are for a 48-hour interval). Of every pair at least 48 hours apart,
    the one closest to 48 hours wins; on a tie, the more recent pair (it describes the pregnancy
    now). Results under 48 hours from every other result are never used.
    """
    if not samples:
        return None
    origin = min(s.taken_at for s in samples)
    best: tuple[float, float, float] | None = None
    chosen: tuple[int, int] | None = None
    for i, first in enumerate(samples):
        for j, second in enumerate(samples):
            hours = _hours(first, second)
            if hours < HCG_MIN_HOURS:
                continue
            # Smaller is better: distance from 48 h, then later second, then later first
            # (times as offsets from the earliest sample: no clock or time-zone assumption).
            key = (
                hours - HCG_MIN_HOURS,
                -(second.taken_at - origin).total_seconds(),
                -(first.taken_at - origin).total_seconds(),
            )
            if best is None or key < best:
                best, chosen = key, (i, j)
    return chosen


def _hours(first: HcgSample, second: HcgSample) -> float:
    return (second.taken_at - first.taken_at).total_seconds() / 3600.0


def _hcg_facts(samples: list[HcgSample]) -> dict[str, Any]:
    latest = max(samples, key=lambda s: s.taken_at) if samples else None
    pair = choose_hcg_pair(samples)
    first = samples[pair[0]] if pair else None
    second = samples[pair[1]] if pair else None
    return {
        "hcg_count": len(samples),
        "hcg_first_iu": first.iu_per_l if first else None,
        "hcg_second_iu": second.iu_per_l if second else None,
        "hcg_hours_apart": _hours(first, second) if first and second else None,
        "hcg_second_date": second.taken_at.date() if second else None,
        "hcg_too_close": len(samples) >= 2 and pair is None,
        "hcg_latest_iu": latest.iu_per_l if latest else None,
        "hcg_latest_date": latest.taken_at.date() if latest else None,
    }


# The hCG facts of an episode with no result (most episodes): copied, never shared.
_NO_HCG: dict[str, Any] = {
    "hcg_count": 0,
    "hcg_first_iu": None,
    "hcg_second_iu": None,
    "hcg_hours_apart": None,
    "hcg_second_date": None,
    "hcg_too_close": False,
    "hcg_latest_iu": None,
    "hcg_latest_date": None,
}


# Every fact, in the facts' order, with the value of an episode with no scan and no hCG result
# (`episode_facts` copies it, then writes what the episode has).
_NO_FACTS: dict[str, Any] = {
    "assessed_on": None,
    "previous_miscarriages": None,
    "vaginal_bleeding": None,
    "lmp": None,
    "scan_date": None,
    "scan_route": None,
    "scan_location": None,
    "fetal_pole": None,
    "fetal_heartbeat": None,
    "crl_mm": None,
    "msd_mm": None,
    "dating_crl_mm": None,
    "dating_scan_date": None,
    "miscarriage_diagnosed": None,
    "second_opinion_no_heartbeat": None,
    "on_progesterone": None,
    "on_recommended_progesterone": None,
    "on_other_progestogen": False,
    "intrauterine_seen": False,
    "first_intrauterine_scan_date": None,
    "first_intrauterine_scan_route": None,
    **_NO_HCG,
    "pain": None,
    "haemodynamically_unstable": None,
    "heavy_bleeding": None,
    "previous_ectopic": None,
    "ectopic_ruptured": None,
    "rhesus_d": None,
    "adnexal_mass_mm": None,
    "able_to_return_for_follow_up": None,
    "miscarriage_type": None,
    "management": None,
}


def episode_facts(episode: Episode) -> dict[str, Any]:
    """Flatten an episode into the facts the rules read (``None`` = unknown)."""
    # A copy of every fact's no-data value, then each value written in place: the copy of a
    # dict of these keys is one block copied, and a key written keeps its place, so the order
    # is `_NO_FACTS`'. (An assessment makes one per episode; adding 36 keys one by one, or a
    # dict display of them, cost about twice as much.)
    facts = _NO_FACTS.copy()
    # The fields read from the model's own dict (where pydantic keeps them): an attribute of
    # a model goes through `BaseModel.__getattr__`'s slower lookup, several times a dict's.
    fields = episode.__dict__
    facts["assessed_on"] = fields["assessed_on"]
    facts["previous_miscarriages"] = fields["previous_miscarriages"]
    facts["vaginal_bleeding"] = fields["vaginal_bleeding"]
    facts["lmp"] = fields["lmp"]
    scans = fields["scans"]
    if scans:
        _write_scan_facts(scans, facts)
    facts["miscarriage_diagnosed"] = fields["miscarriage_diagnosed"]
    facts["second_opinion_no_heartbeat"] = fields["second_opinion_no_heartbeat"]
    facts["on_progesterone"] = fields["on_progesterone"]
    facts["on_recommended_progesterone"] = fields["on_recommended_progesterone"]
    facts["on_other_progestogen"] = fields["on_other_progestogen"]
    hcg = fields["hcg"]
    if hcg:
        facts |= _hcg_facts(list(hcg))
    facts["pain"] = fields["pain"]
    facts["haemodynamically_unstable"] = fields["haemodynamically_unstable"]
    facts["heavy_bleeding"] = fields["heavy_bleeding"]
    facts["previous_ectopic"] = fields["previous_ectopic"]
    facts["ectopic_ruptured"] = fields["ectopic_ruptured"]
    facts["rhesus_d"] = fields["rhesus_d"]
    facts["adnexal_mass_mm"] = fields["adnexal_mass_mm"]
    facts["able_to_return_for_follow_up"] = fields["able_to_return_for_follow_up"]
    facts["miscarriage_type"] = fields["miscarriage_type"]
    facts["management"] = fields["management"]
    return facts


def _write_scan_facts(scans: list[Scan], facts: dict[str, Any]) -> None:
    """The scan facts of an episode with at least one scan, written into ``facts`` (each
    scan's fields read from its model's dict, as `episode_facts` reads the episode's)."""
    # One pass over the scans: the latest (`Episode.latest_scan`: latest date, the later in
    # the list on a tie), the dating scan (the earliest with a verified CRL, the first in the list
    # on a tie, as a stable sort by date gives), the first intrauterine one.
    latest: dict[str, Any] = {}
    dating: dict[str, Any] | None = None
    first_intrauterine = None
    first_route = None
    for scan in scans:
        fields = scan.__dict__
        day = fields["date"]
        if not latest or day >= latest["date"]:
            latest = fields
        crl = fields["crl_mm"]
        if (
            crl is not None
            and crl > 0
            and fields["crl_verified"]  # an unverified CRL never dates her (viability reads it)
            and (dating is None or day < dating["date"])
        ):
            dating = fields
        if fields["location"] == "intrauterine":
            if first_intrauterine is None or day < first_intrauterine:
                first_intrauterine = day
                first_route = fields["route"]
            elif day == first_intrauterine:
                first_route = _same_day_route(first_route, fields["route"])
    facts["scan_date"] = latest["date"]
    facts["scan_route"] = latest["route"]
    location = facts["scan_location"] = latest["location"]
    if location == REPORT_NOT_READ:  # an ectopic seen before stands (`location_now`)
        facts["scan_location"] = location_now([(s.date, s.location) for s in scans])
    facts["fetal_pole"] = latest["fetal_pole"]
    facts["fetal_heartbeat"] = latest["fetal_heartbeat"]
    facts["crl_mm"] = latest["crl_mm"]
    facts["msd_mm"] = latest["msd_mm"]
    if dating is not None:
        facts["dating_crl_mm"] = dating["crl_mm"]
        facts["dating_scan_date"] = dating["date"]
    facts["intrauterine_seen"] = first_intrauterine is not None
    facts["first_intrauterine_scan_date"] = first_intrauterine
    facts["first_intrauterine_scan_route"] = first_route


def _same_day_route(one: str | None, other: str | None) -> str | None:
    """The route of two intrauterine scans on the first such day: transabdominal if either was
    (its measurement needs the longer wait, 14 days), the route both name, otherwise None (one
    is not recorded: Unknown, never read as transvaginal)."""
    if one == other:
        return one
    return "transabdominal" if "transabdominal" in (one, other) else None
