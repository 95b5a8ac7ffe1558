"""The case list: the ids of the episodes counted in the headline measure's numerator (eligible
for progesterone and not offered it), by site, so a local team can review each one.

Only the site and the episode id are written: no other patient data.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from earlypath.audit.governance import load_measures
from earlypath.audit.load import fetch_arrow, sql_text
from earlypath.audit.sql_table import SqlTable, query_rows, sql_name

__all__ = ["CASE_LIST", "write_case_list"]

CASE_LIST = "cases-eligible-not-offered.csv"
NO_SITE = "(not recorded)"


def write_case_list(con: Any, episodes: Any, target: Path, measure_id: str) -> int:
    """Write site,episode_id for every episode in the measure's numerator, sorted by site and
    then input order; returns the number of cases."""
    measure = next(m for m in load_measures() if m.id == measure_id)
    if isinstance(episodes, SqlTable):
        rows = query_rows(con.con, _cases_sql(episodes, list(measure.numerator)))
    else:
        rows = _cases_ibis(con, episodes, list(measure.numerator))
    with open(target, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["site", "episode_id"])
        for row in rows:
            out.writerow([row["site"] if row["site"] is not None else NO_SITE, row["episode_id"]])
    return len(rows)


def _cases_sql(episodes: SqlTable, numerator: list[str]) -> str:
    """The cases' site, episode id and row number, by site (no site last) then input order."""
    site = "CAST(site AS VARCHAR)" if "site" in episodes.columns else sql_text(NO_SITE)
    categories = ", ".join(sql_text(c) for c in numerator)
    return (
        f"SELECT {site} AS site, CAST(episode_id AS VARCHAR) AS episode_id, row_number "
        f"FROM ({episodes.sql}) WHERE CAST(adherence AS VARCHAR) IN ({categories}) "
        f"ORDER BY {sql_name('site')} ASC NULLS LAST, row_number ASC"
    )


def _cases_ibis(con: Any, episodes: Any, numerator: list[str]) -> list[dict[str, Any]]:
    import ibis

    cases = episodes.filter(episodes.adherence.cast("string").isin(numerator))
    site = cases.site.cast("string") if "site" in cases.columns else ibis.literal(NO_SITE)
    return fetch_arrow(
        con,
        cases.select(
            site=site,
            episode_id=cases.episode_id.cast("string"),
            row_number=cases.row_number,
        ).order_by(["site", "row_number"]),
    ).to_pylist()
