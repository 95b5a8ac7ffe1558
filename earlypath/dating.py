"""Gestational age: from the crown-rump length when a CRL is recorded, else from the LMP.

The formulas are IR expressions so the batch engines compute exactly what the reference engine
does; `gestation()` evaluates them for one episode and adds the display and basis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from earlypath.facts import ASSESSED_ON, DATING_CRL_MM, DATING_SCAN_DATE, LMP
from earlypath.rules.ir import (
    Coalesce,
    Const,
    DaysBetween,
    Expr,
    Floor,
    If,
    Sqrt,
    all_of,
)

# Robinson & Fleming (1975): gestation (days) = 8.052 * sqrt(CRL mm) + 23.73, for CRL about
# 6-84 mm; we also use it below 6 mm (an early-pregnancy scan often measures 2-5 mm) and stop
# at 84 mm, beyond which the formula was not fitted and the LMP is used instead.
ROBINSON_SLOPE = 8.052
ROBINSON_INTERCEPT = 23.73
CRL_DATING_MAX_MM = 84.0

# Rounded to the nearest day (half up), the same way on every engine.
CRL_GESTATION_DAYS: Expr = If(
    all_of(DATING_CRL_MM.gt(0.0), DATING_CRL_MM.le(CRL_DATING_MAX_MM)),
    Floor(ROBINSON_SLOPE * Sqrt(DATING_CRL_MM) + ROBINSON_INTERCEPT + 0.5)
    + DaysBetween(DATING_SCAN_DATE, ASSESSED_ON),
    Const(None),
)
LMP_GESTATION_DAYS: Expr = DaysBetween(LMP, ASSESSED_ON)
GESTATION_DAYS: Expr = Coalesce((CRL_GESTATION_DAYS, LMP_GESTATION_DAYS))

Basis = Literal["crl", "lmp"]


def display(days: int) -> str:
    """Weeks+days, as clinicians write it: 112 -> '16+0'."""
    return f"{days // 7}+{days % 7}"


def parse_display(text: str) -> int:
    """'16+0' -> 112."""
    weeks, _, days = text.partition("+")
    return int(weeks) * 7 + int(days or 0)


@dataclass(frozen=True)
class Gestation:
    days: int
    basis: Basis
    dating_scan_date: dt.date | None = None

    @property
    def display(self) -> str:
        return display(self.days)

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "display": self.display,
            "basis": self.basis,
            "dating_scan_date": self.dating_scan_date.isoformat()
            if self.dating_scan_date
            else None,
        }


def date_reaching(assessed_on: dt.date, gestation_days: int, target_days: int) -> dt.date:
    """The calendar date on which gestation reaches ``target_days``."""
    return assessed_on + dt.timedelta(days=target_days - gestation_days)


def robinson_days(crl_mm: float) -> float:
    """Gestation in days (unrounded) on the day of a scan measuring ``crl_mm``."""
    return ROBINSON_SLOPE * crl_mm**0.5 + ROBINSON_INTERCEPT
