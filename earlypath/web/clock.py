"""The service's "today": the date where its clinicians are, not in UTC.

Records are dated as written (`earlypath.records`), and EHRs write local times
("2024-06-05T00:30:00+01:00"). A service whose today was the UTC date read every record made in
the hour after midnight of British Summer Time as dated after the assessment, so ignored: an
ectopic pregnancy or a miscarriage recorded then was left out and the card offered progesterone
(HAZ-01, HAZ-06; stop 40). Today is the date in `EARLYPATH_TIME_ZONE` (default Europe/London:
NG126 is England's guideline), so a record made there today is never after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from earlypath.errors import ConfigError

DEFAULT_TIME_ZONE = "Europe/London"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or ConfigError naming the setting."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"EARLYPATH_TIME_ZONE must be an IANA time zone such as Europe/London, "
            f"not {name[:40]!r}"
        ) from None


def site_today(name: str) -> Callable[[], dt.date]:
    """Today's date in the time zone ``name``, read from the clock at each call."""
    zone = time_zone(name)

    def today() -> dt.date:
        return utc_now().astimezone(zone).date()

    return today
