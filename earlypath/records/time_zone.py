"""The time zone a record's instants are dated in: where the care happened.

A FHIR instant carries its offset ("2026-06-01T23:30:00Z", "2026-06-02T00:20:00+01:00",
"2026-06-01T19:30:00-05:00"); which day it falls on depends on where it is read. Systems write
both forms for the same visit (UK Core's examples write "+01:00"; Epic's FHIR API and many
servers UTC "Z"; Synthea the generator's offset), so an encounter at 00:30 British Summer Time
written in UTC was dated the day before its scan written in local time, and the scan was read
as after the assessment (issue 12, stop 41). Every instant with an offset is therefore dated in
one zone, `EARLYPATH_TIME_ZONE` (default Europe/London: NG126 is England's guideline), the
zone whose date is the service's today (`earlypath.web.clock`). A date with no time, and a
time written with no offset, is its own day, as written.
"""

from __future__ import annotations

import functools
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from earlypath.errors import ConfigError

DEFAULT_TIME_ZONE = "Europe/London"
SETTING = "EARLYPATH_TIME_ZONE"


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or ConfigError naming the setting."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{SETTING} must be an IANA time zone such as Europe/London, not {name[:40]!r}"
        ) from None


def configured_time_zone() -> str:
    """The zone named by `EARLYPATH_TIME_ZONE` (default Europe/London), checked: a name that is
    not a time zone is a ConfigError naming the setting."""
    return _checked(os.environ.get(SETTING, "").strip() or DEFAULT_TIME_ZONE)


@functools.cache
def _checked(name: str) -> str:
    time_zone(name)  # (raises, so a bad name is never kept)
    return name
