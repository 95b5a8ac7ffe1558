"""Where the pregnancy is now, from an episode's scans: one rule for every reader of the contract.

The latest scan (latest date; on a tie, the later in the list, as `Episode.latest_scan`) says
where the pregnancy is, with one exception the FHIR reading also makes
(`earlypath.records.definition`, the scan days): a scan whose report was not read
(``report_not_read``) never hides an ectopic pregnancy seen before it. A report that cannot be
read may show anything, but an ectopic pregnancy already seen does not go away because a later
report is unreadable; advising on it as "location to be read" would hold back its management
(NG126 1.6). So when the latest scans are unread reports and the latest scan before them whose
location was read showed an ectopic pregnancy, the location now is ``ectopic``. A read location
after the ectopic (an intrauterine pregnancy, or one not found) ends it, as in the reading.

`earlypath.facts.episode_facts` (every engine's facts) and `earlypath.audit.flat.episode_to_flat`
(an episode as a flat row) both call `location_now`, so a hand-typed episode (CLI, web form, API)
is judged as the FHIR reading of the same record is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

REPORT_NOT_READ = "report_not_read"
ECTOPIC = "ectopic"


def location_now(scans: Sequence[tuple[dt.date, str | None]]) -> str | None:
    """The location the rules read, from ``(date, location)`` of each scan in list order; None
    without a scan."""
    if not scans:
        return None
    # A stable sort by date keeps the list order on a tie: the last is the latest scan.
    ordered = sorted(scans, key=lambda scan: scan[0])
    latest = ordered[-1][1]
    if latest != REPORT_NOT_READ:
        return latest
    for _, location in reversed(ordered):
        if location != REPORT_NOT_READ:
            return ECTOPIC if location == ECTOPIC else latest
    return latest
