"""NG126 versions as data: which text was in force when.

An assessment uses the version in force on its ``assessed_on`` unless one is asked for; an audit
of 2020 care is therefore judged against the 2019 text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from earlypath.errors import Problem, UnknownGuidelineVersion

if TYPE_CHECKING:  # the rules' types load when a recommendation is made, not for the dates
    from earlypath.rules.decision import Recommendation

NG126_URL = "https://www.nice.org.uk/guidance/ng126"
UPDATE_INFO_URL = "https://www.nice.org.uk/guidance/ng126/chapter/Update-information"


@dataclass(frozen=True)
class GuidelineVersion:
    guideline: str
    version: str
    in_force_from: dt.date
    in_force_to: dt.date | None
    summary: str
    url: str = NG126_URL

    def as_dict(self) -> dict[str, str | None]:
        return {
            "guideline": self.guideline,
            "version": self.version,
            "in_force_from": self.in_force_from.isoformat(),
            "in_force_to": self.in_force_to.isoformat() if self.in_force_to else None,
            "url": self.url,
        }


VERSIONS: tuple[GuidelineVersion, ...] = (
    GuidelineVersion(
        "NG126",
        "2019-04-17",
        dt.date(2019, 4, 17),
        dt.date(2021, 11, 23),
        "First NG126 (replaced CG154). No recommendation to offer progesterone (research "
        "recommendation only); the 14-day bleeding advice covers every woman with bleeding and a "
        "confirmed intrauterine pregnancy with a heartbeat.",
    ),
    GuidelineVersion(
        "NG126",
        "2021-11-24",
        dt.date(2021, 11, 24),
        dt.date(2023, 8, 22),
        "Progesterone added: 1.5.2 (offer) and 1.5.3 (continue to 16 completed weeks); 1.5.1 "
        "narrowed to women with no previous miscarriage.",
    ),
    GuidelineVersion(
        "NG126",
        "2023-08-23",
        dt.date(2023, 8, 23),
        None,
        "Missed miscarriage: mifepristone then misoprostol. Progesterone recommendations unchanged.",
    ),
)
BY_VERSION = {v.version: v for v in VERSIONS}
# The two problems of a version that cannot be applied, worded once for every engine (the
# audit's SQL validation, `earlypath.audit.validate`, reports them as these functions do).
BEFORE_NG126_MESSAGE = (
    f"is before NG126 came into force ({VERSIONS[0].in_force_from}); "
    "earlypath does not encode CG154"
)
UNKNOWN_VERSION_MESSAGE = f"is not a known NG126 version (known: {', '.join(BY_VERSION)})"


def version_in_force(on: dt.date) -> GuidelineVersion:
    """The NG126 version in force on a date."""
    for version in reversed(VERSIONS):
        if version.in_force_from <= on:
            return version
    raise UnknownGuidelineVersion([Problem("assessed_on", BEFORE_NG126_MESSAGE)])


def resolve_version(on: dt.date, asked: str | None) -> tuple[GuidelineVersion, str]:
    """The version to apply and why: ``(version, "in force on assessed_on" | "requested")``."""
    if asked is None:
        return version_in_force(on), "in force on assessed_on"
    try:
        return BY_VERSION[asked], "requested"
    except KeyError:
        raise UnknownGuidelineVersion(
            [Problem("guideline_version", UNKNOWN_VERSION_MESSAGE)]
        ) from None


def recommendation(version: str, number: str, summary: str, url: str) -> Recommendation:
    """A numbered NG126 recommendation as it stood in one version (with that version's dates)."""
    from earlypath.rules.decision import Recommendation

    v = BY_VERSION[version]
    return Recommendation(
        v.guideline, version, number, summary, url, v.in_force_from, v.in_force_to
    )
