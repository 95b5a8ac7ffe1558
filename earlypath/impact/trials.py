"""Trial data as counts with their sources, and the statistics computed from them.

Every count carries where it came from and whether it was checked against the paper. Statistics
are computed only from verified counts: asking for a group whose counts are not verified raises
`UnverifiedCountError` (the PRISM >= 3 previous miscarriages subgroup is printed as percentages
only, so its counts are not known here and are not reconstructed).

Methods (all two-sided 95%):
- relative risk: the log (Katz) method, SE(ln RR) = sqrt(1/a - 1/n1 + 1/c - 1/n2);
- risk difference: Newcombe's hybrid score interval (his method 10), built from the two Wilson
  score intervals; the simple Wald interval is given beside it because health-economic papers
  (Okeke Ogwulu et al., BJOG 2020) print that one;
- number needed to treat: 1 / RD, with its interval from the RD interval (Altman, BMJ 1998): when
  the RD interval crosses zero the NNT interval runs from "benefit" through infinity to "harm".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Literal

from earlypath.impact.errors import UnverifiedCountError
from earlypath.intervals import wilson

Z95: float = NormalDist().inv_cdf(0.975)

PRISM_CITATION = (
    "Coomarasamy A et al. A randomized trial of progesterone in women with bleeding in early "
    "pregnancy (PRISM). N Engl J Med 2019;380:1815-24"
)
PROMISE_CITATION = (
    "Coomarasamy A et al. A randomized trial of progesterone in women with recurrent "
    "miscarriages (PROMISE). N Engl J Med 2015;373:2141-8"
)
COCHRANE_2021_CITATION = (
    "Devall AJ et al. Progestogens for preventing miscarriage: a network meta-analysis. "
    "Cochrane Database Syst Rev 2021;4:CD013792"
)
ECONOMICS_CITATION = (
    "Okeke Ogwulu CB et al. The cost-effectiveness of progesterone in preventing miscarriages in "
    "women with early pregnancy bleeding: an economic evaluation based on the PRISM trial. "
    "BJOG 2020"
)


@dataclass(frozen=True)
class Count:
    """One number from a paper: the value (None when unknown), its source, and a verified flag."""

    value: int | None
    source: str
    verified: bool
    note: str = ""


@dataclass(frozen=True)
class Arm:
    """One arm of a comparison: live births (events) out of women with an outcome (total)."""

    label: str
    events: Count
    total: Count

    def verified_counts(self, what: str) -> tuple[int, int]:
        for name, count in (("events", self.events), ("total", self.total)):
            if count.value is None or not count.verified:
                raise UnverifiedCountError(
                    f"{what}: the {self.label} arm's {name} count is not verified "
                    f"({count.source}{'; ' + count.note if count.note else ''}); "
                    "the statistic is refused rather than guessed"
                )
        assert self.events.value is not None and self.total.value is not None
        if not 0 <= self.events.value <= self.total.value or self.total.value == 0:
            raise UnverifiedCountError(
                f"{what}: the {self.label} arm's counts are impossible "
                f"({self.events.value}/{self.total.value})"
            )
        return self.events.value, self.total.value


@dataclass(frozen=True)
class PublishedEffect:
    """An effect as printed in a paper, kept beside our computation and never replaced by it."""

    measure: Literal["RR", "RD"]
    point: float
    low: float
    high: float
    adjusted: bool
    source: str
    note: str = ""

    @property
    def label(self) -> str:
        return "adjusted" if self.adjusted else "unadjusted"

    @property
    def short_source(self) -> str:
        for key, short in (
            ("PRISM", "PRISM NEJM 2019"),
            ("PROMISE", "PROMISE NEJM 2015"),
            ("Cochrane", "Cochrane NMA 2021"),
            ("BJOG", "economic evaluation BJOG 2020"),
        ):
            if key in self.source:
                return short
        return self.source

    def describe(self) -> str:
        digits = 3 if self.measure == "RD" else 2
        return (
            f"{self.measure} {self.point:.{digits}f} ({self.low:.{digits}f} to "
            f"{self.high:.{digits}f}), {self.label}, {self.short_source}"
        )


@dataclass(frozen=True)
class TrialGroup:
    """A trial population or subgroup: treatment arm vs control arm, outcome live birth."""

    key: str
    trial: str
    description: str
    treatment: Arm
    control: Arm
    outcome: str
    published: tuple[PublishedEffect, ...] = field(default_factory=tuple)

    @property
    def verified(self) -> bool:
        return all(
            c.verified and c.value is not None
            for arm in (self.treatment, self.control)
            for c in (arm.events, arm.total)
        )


@dataclass(frozen=True)
class Interval:
    point: float
    low: float
    high: float

    def rounded(self, digits: int = 2) -> tuple[float, float, float]:
        return (round(self.point, digits), round(self.low, digits), round(self.high, digits))


@dataclass(frozen=True)
class NNT:
    """Number needed to treat (benefit when positive), with Altman's interval.

    `low` and `high` are the NNT bounds; when `crosses_zero` is True the interval is
    "NNTB `low` to infinity to NNTH `-high`" (high is then negative).
    """

    point: float
    low: float
    high: float
    crosses_zero: bool

    def describe(self) -> str:
        def side(v: float) -> str:
            return f"NNTB {v:.0f}" if v > 0 else f"NNTH {abs(v):.0f}"

        if self.crosses_zero:
            return f"{side(self.point)} (95% CI {side(self.low)} to infinity to {side(self.high)})"
        return f"{side(self.point)} (95% CI {abs(self.low):.0f} to {abs(self.high):.0f})"


@dataclass(frozen=True)
class TrialStatistics:
    group: TrialGroup
    treatment_rate: float
    control_rate: float
    relative_risk: Interval
    risk_difference: Interval
    risk_difference_wald: Interval
    nnt: NNT

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group.key,
            "trial": self.group.trial,
            "description": self.group.description,
            "treatment": _arm_dict(self.group.treatment),
            "control": _arm_dict(self.group.control),
            "treatment_rate": self.treatment_rate,
            "control_rate": self.control_rate,
            "relative_risk": _interval_dict(self.relative_risk, "log method, crude"),
            "risk_difference": _interval_dict(self.risk_difference, "Newcombe hybrid score"),
            "risk_difference_wald": _interval_dict(self.risk_difference_wald, "Wald"),
            "nnt": {
                "point": self.nnt.point,
                "low": self.nnt.low,
                "high": self.nnt.high,
                "crosses_zero": self.nnt.crosses_zero,
                "text": self.nnt.describe(),
            },
            "published": [
                {
                    "measure": p.measure,
                    "point": p.point,
                    "low": p.low,
                    "high": p.high,
                    "label": p.label,
                    "text": p.describe(),
                    "source": p.source,
                    "note": p.note,
                }
                for p in self.group.published
            ],
        }


def _arm_dict(arm: Arm) -> dict[str, object]:
    return {
        "label": arm.label,
        "events": arm.events.value,
        "total": arm.total.value,
        "source": arm.events.source,
        "verified": arm.events.verified and arm.total.verified,
    }


def _interval_dict(iv: Interval, method: str) -> dict[str, object]:
    return {"point": iv.point, "low": iv.low, "high": iv.high, "method": method}


# --- the methods ---------------------------------------------------------------------------


def relative_risk(a: int, n1: int, c: int, n2: int, z: float = Z95) -> Interval:
    """Risk ratio (a/n1)/(c/n2) with the log-method interval. Needs a > 0 and c > 0."""
    if min(a, c) <= 0:
        raise ValueError("the log-method interval needs at least one event in each arm")
    rr = (a / n1) / (c / n2)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    return Interval(rr, rr * math.exp(-z * se), rr * math.exp(z * se))


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    interval = wilson(x, n, z)
    if interval is None:
        raise ValueError("a proportion needs at least one participant")
    return interval


def risk_difference(a: int, n1: int, c: int, n2: int, z: float = Z95) -> Interval:
    """p1 - p2 with Newcombe's hybrid score interval (method 10, Stat Med 1998;17:873-90)."""
    p1, p2 = a / n1, c / n2
    l1, u1 = _wilson(a, n1, z)
    l2, u2 = _wilson(c, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Interval(d, low, high)


def risk_difference_wald(a: int, n1: int, c: int, n2: int, z: float = Z95) -> Interval:
    """p1 - p2 with the simple Wald interval (for comparison with papers that print it)."""
    p1, p2 = a / n1, c / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    d = p1 - p2
    return Interval(d, d - z * se, d + z * se)


def number_needed_to_treat(rd: Interval) -> NNT:
    """NNT = 1/RD; its interval is the reciprocal of the RD interval (Altman, BMJ 1998;317:1309)."""
    point = math.inf if rd.point == 0 else 1 / rd.point
    if rd.low > 0 or rd.high < 0:
        lo, hi = sorted((1 / rd.high, 1 / rd.low))
        return NNT(point, lo, hi, crosses_zero=False)
    # interval includes zero: NNTB 1/high ... infinity ... NNTH 1/low (negative)
    low = math.inf if rd.high == 0 else 1 / rd.high
    high = -math.inf if rd.low == 0 else 1 / rd.low
    return NNT(point, low, high, crosses_zero=True)


def statistics_for(group: TrialGroup | str) -> TrialStatistics:
    """All statistics for one group; refuses (UnverifiedCountError) unless every count is verified."""
    g = TRIAL_GROUPS[group] if isinstance(group, str) else group
    what = f"{g.trial} {g.description}"
    a, n1 = g.treatment.verified_counts(what)
    c, n2 = g.control.verified_counts(what)
    rd = risk_difference(a, n1, c, n2)
    return TrialStatistics(
        group=g,
        treatment_rate=a / n1,
        control_rate=c / n2,
        relative_risk=relative_risk(a, n1, c, n2),
        risk_difference=rd,
        risk_difference_wald=risk_difference_wald(a, n1, c, n2),
        nnt=number_needed_to_treat(rd),
    )


def all_statistics() -> list[TrialStatistics]:
    """Statistics for every verified group (unverified groups are skipped, not estimated)."""
    return [statistics_for(g) for g in TRIAL_GROUPS.values() if g.verified]


# --- the data --------------------------------------------------------------------------------


def _c(value: int | None, source: str, verified: bool = True, note: str = "") -> Count:
    return Count(value, source, verified, note)


_PRISM_ALL = "PRISM, NEJM 2019, primary outcome (live birth >= 34 weeks)"
_PRISM_SUB = "PRISM, NEJM 2019, prespecified subgroup by previous miscarriages"
_DERIVED = "derived: PRISM all women minus the >= 1 previous miscarriage subgroup"
_PROMISE = "PROMISE, NEJM 2015, primary outcome (live birth after 24 weeks)"


def _prism(label: str, events: Count, total: Count) -> Arm:
    return Arm(label, events, total)


TRIAL_GROUPS: dict[str, TrialGroup] = {
    "prism-all": TrialGroup(
        key="prism-all",
        trial="PRISM",
        description="all women with early-pregnancy bleeding",
        treatment=_prism("progesterone", _c(1513, _PRISM_ALL), _c(2025, _PRISM_ALL)),
        control=_prism("placebo", _c(1459, _PRISM_ALL), _c(2013, _PRISM_ALL)),
        outcome="live birth at >= 34 weeks",
        published=(
            PublishedEffect(
                "RR",
                1.03,
                1.00,
                1.07,
                adjusted=True,
                source=PRISM_CITATION,
                note="primary analysis, adjusted for the minimisation variables; p = 0.08",
            ),
        ),
    ),
    "prism-prev-1plus": TrialGroup(
        key="prism-prev-1plus",
        trial="PRISM",
        description=">= 1 previous miscarriage",
        treatment=_prism("progesterone", _c(689, _PRISM_SUB), _c(914, _PRISM_SUB)),
        control=_prism("placebo", _c(619, _PRISM_SUB), _c(886, _PRISM_SUB)),
        outcome="live birth at >= 34 weeks",
        published=(
            PublishedEffect(
                "RR",
                1.09,
                1.03,
                1.15,
                adjusted=True,
                source=PRISM_CITATION,
                note="adjusted subgroup estimate; p = 0.003",
            ),
            PublishedEffect(
                "RR",
                1.08,
                1.02,
                1.14,
                adjusted=False,
                source=COCHRANE_2021_CITATION,
                note="network meta-analysis, vaginal micronised progesterone, threatened "
                "miscarriage with >= 1 previous miscarriage",
            ),
            PublishedEffect(
                "RD",
                0.055,
                0.014,
                0.096,
                adjusted=False,
                source=ECONOMICS_CITATION,
                note="effect difference used in the economic evaluation",
            ),
        ),
    ),
    "prism-prev-0": TrialGroup(
        key="prism-prev-0",
        trial="PRISM",
        description="no previous miscarriage",
        treatment=_prism(
            "progesterone",
            _c(824, _DERIVED, note="1513 - 689"),
            _c(1111, _DERIVED, note="2025 - 914"),
        ),
        control=_prism(
            "placebo",
            _c(840, _DERIVED, note="1459 - 619"),
            _c(1127, _DERIVED, note="2013 - 886"),
        ),
        outcome="live birth at >= 34 weeks",
        published=(
            PublishedEffect(
                "RR",
                0.99,
                0.95,
                1.04,
                adjusted=True,
                source=PRISM_CITATION,
                note="subgroup estimate",
            ),
        ),
    ),
    "prism-prev-3plus": TrialGroup(
        key="prism-prev-3plus",
        trial="PRISM",
        description=">= 3 previous miscarriages",
        treatment=_prism(
            "progesterone",
            _c(None, _PRISM_SUB, verified=False, note="printed as 72% only; count UNVERIFIED"),
            _c(None, _PRISM_SUB, verified=False, note="denominator UNVERIFIED"),
        ),
        control=_prism(
            "placebo",
            _c(None, _PRISM_SUB, verified=False, note="printed as 57% only; count UNVERIFIED"),
            _c(None, _PRISM_SUB, verified=False, note="denominator UNVERIFIED"),
        ),
        outcome="live birth at >= 34 weeks",
        published=(
            PublishedEffect(
                "RR",
                1.28,
                1.08,
                1.51,
                adjusted=True,
                source=PRISM_CITATION,
                note="subgroup estimate; counts behind it are not verified here",
            ),
        ),
    ),
    "promise-all": TrialGroup(
        key="promise-all",
        trial="PROMISE",
        description=">= 3 unexplained miscarriages, no bleeding",
        treatment=_prism("progesterone", _c(262, _PROMISE), _c(398, _PROMISE)),
        control=_prism("placebo", _c(271, _PROMISE), _c(428, _PROMISE)),
        outcome="live birth after 24 weeks",
        published=(
            PublishedEffect("RR", 1.04, 0.94, 1.15, adjusted=False, source=PROMISE_CITATION),
        ),
    ),
}


def prism_share_with_previous_miscarriage() -> tuple[int, int]:
    """(women with >= 1 previous miscarriage, all women) among PRISM participants with an outcome."""
    g = TRIAL_GROUPS["prism-prev-1plus"]
    a = TRIAL_GROUPS["prism-all"]
    num = g.treatment.verified_counts("share")[1] + g.control.verified_counts("share")[1]
    den = a.treatment.verified_counts("share")[1] + a.control.verified_counts("share")[1]
    return num, den
