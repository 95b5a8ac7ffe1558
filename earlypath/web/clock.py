"""The service's "today": the date where its clinicians are, not in UTC.

Records were dated as written, and EHRs write local times ("2024-06-05T00:30:00+01:00"). A
service whose today was the UTC date read every record made in
the hour after midnight of British Summer Time as dated after the assessment, so ignored: an
ectopic pregnancy or a miscarriage recorded then was left out and the card offered progesterone
(HAZ-01, HAZ-06; stop 40). Today is the date in `EARLYPATH_TIME_ZONE` (default Europe/London:
NG126 is England's guideline), so a record made there today is never after it; a record's
instants are dated in the same zone (`earlypath.records.time_zone`, stop 41).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

# one setting for the service's today and for the day of a record's instants
from earlypath.records.time_zone import DEFAULT_TIME_ZONE, time_zone

__all__ = ["DEFAULT_TIME_ZONE", "site_today", "time_zone", "utc_now"]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def site_today(name: str) -> Callable[[], dt.date]:
    """Today's date in the time zone ``name``, read from the clock at each call."""
    zone = time_zone(name)

    def today() -> dt.date:
        return utc_now().astimezone(zone).date()

    return today
