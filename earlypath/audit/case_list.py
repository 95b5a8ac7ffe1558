"""The case list: the ids of the episodes counted in the headline measure's numerator (eligible
for progesterone and not offered it), by site, so a local team can review each one.

Only the site and the episode id are written: no other patient data.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import ibis

from earlypath.audit.governance import load_measures
from earlypath.audit.load import fetch_arrow

__all__ = ["CASE_LIST", "write_case_list"]

CASE_LIST = "cases-eligible-not-offered.csv"
NO_SITE = "(not recorded)"


def write_case_list(con: Any, episodes: Any, target: Path, measure_id: str) -> int:
    """Write site,episode_id for every episode in the measure's numerator, sorted by site and
    then input order; returns the number of cases."""
    measure = next(m for m in load_measures() if m.id == measure_id)
    cases = episodes.filter(episodes.adherence.cast("string").isin(list(measure.numerator)))
    site = cases.site.cast("string") if "site" in cases.columns else ibis.literal(NO_SITE)
    rows = fetch_arrow(
        con,
        cases.select(
            site=site,
            episode_id=cases.episode_id.cast("string"),
            row_number=cases.row_number,
        ).order_by(["site", "row_number"]),
    ).to_pylist()
    with open(target, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["site", "episode_id"])
        for row in rows:
            out.writerow([row["site"] if row["site"] is not None else NO_SITE, row["episode_id"]])
    return len(rows)
