"""The DuckDB pass reads the dating facts as the scan's own CRL and date (issue 16, stop 31):
the checks' two CASE columns (``dating_crl_mm``, ``dating_scan_date``) are not computed in the
COPY, and every row is judged exactly as with them (`earlypath.audit.judge.dating_as_the_scan`).
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from typing import Any

from earlypath.audit.judge import _dating_read_only_by_gestation, _episodes
from earlypath.audit.validate import accepted_rows
from earlypath.engines.batch import assess_table, tables_for
from earlypath.facts import DATING_CRL_MM, DATING_SCAN_DATE
from earlypath.policy import DEFAULT_POLICY
from tests.audit.checks_forms import checked_on_duckdb
from tests.audit.helpers import GOOD_DAY, GOOD_ROW

NO_SCAN = dict.fromkeys(
    ("scan_date", "scan_route", "scan_location", "fetal_pole", "fetal_heartbeat", "msd_mm"), None
)
CRLS = (None, 0.0, -0.0, 0.5, 7.0, 84.0, 84.5, 119.0)
SCANS = (None, GOOD_DAY, GOOD_DAY - dt.timedelta(days=20))
LMPS = (None, dt.date(2024, 1, 15), dt.date(2023, 10, 1))
# Every CRL (none, 0, either side of 84 mm) with and without a scan date and an LMP, on and off
# progesterone (continue or stop at 16 weeks): a CRL without a scan date is rejected by the checks.
ROWS = [
    {
        **GOOD_ROW,
        **(NO_SCAN if scan is None else {"scan_date": scan}),
        "episode_id": f"c{i}-s{j}-l{k}-p{p}",
        "crl_mm": crl,
        "lmp": lmp,
        "on_progesterone": bool(p),
    }
    for i, crl in enumerate(CRLS)
    for j, scan in enumerate(SCANS)
    for k, lmp in enumerate(LMPS)
    for p in (0, 1)
]
OUT = ("episode_id", "gestation_days", "decision", "recommendations", "missing")


def _checked() -> tuple[Any, Any]:
    return checked_on_duckdb(ROWS)


def test_the_pass_reads_the_scan_not_the_dating_columns() -> None:
    con, checked = _checked()
    sql = " ".join(str(con.compile(_episodes(checked, [], DEFAULT_POLICY))).split())
    # the gestation's formula reads the scan's columns (its CRL as written: stop 32,
    # test_measured_as_written), after an earlier scan's dating CRL, which comes first when
    # there is one (stop 44, HAZ-20 C20.31), and not when it is not known to be verified (stop
    # 45, HAZ-20 C20.30); nothing reads the dating columns
    earlier = r'CASE WHEN "t(\d+)"\."earlier_crl_mm" > 0 THEN "t\1"\."earlier_crl_'
    unverified = r' WHEN "t\1"\."crl_unverified" THEN CAST\(NULL AS DOUBLE\)'
    assert re.search(
        r"SQRT\(" + earlier + r'mm"' + unverified + r' ELSE "t\1"\."_crl_mm_as_written" END\)', sql
    )
    assert re.search(r"DATE_DIFF\('DAY', " + earlier + r'date" ELSE "t\1"\."scan_date" END', sql)
    assert not re.search(r'[(,] ?"t\d+"\."dating_(crl_mm|scan_date)" ?[^ ,]', sql)


def test_every_row_is_judged_as_with_the_dating_columns() -> None:
    con, checked = _checked()
    judged = con.to_pyarrow(_episodes(checked, [], DEFAULT_POLICY).select(*OUT)).to_pylist()
    with_dating = assess_table(accepted_rows(checked), DEFAULT_POLICY).select(*OUT)
    assert judged == con.to_pyarrow(with_dating).to_pylist()
    # the grid reaches both formulas, both sides of 16 weeks, and Unknown gestation
    days = {r["episode_id"]: r["gestation_days"] for r in judged}
    assert days["c3-s1-l1-p0"] == 29  # a 0.5 mm CRL scanned today: Robinson's formula
    assert days["c1-s1-l1-p0"] == days["c0-s1-l1-p0"] == 49  # CRL 0 or none: the LMP
    assert days["c6-s1-l1-p0"] == 49  # beyond 84 mm: the LMP
    assert days["c1-s1-l0-p0"] is None
    assert {r["decision"] for r in judged} >= {"offer", "continue", "stop", "needs_information"}
    assert len(judged) == len([r for r in ROWS if r["scan_date"] or r["crl_mm"] is None])


def test_a_table_reading_a_dating_fact_itself_keeps_the_dating_columns() -> None:
    assert _dating_read_only_by_gestation(tables_for(DEFAULT_POLICY).values())
    for fact in (DATING_CRL_MM, DATING_SCAN_DATE):
        reads = SimpleNamespace(
            branches=(
                SimpleNamespace(
                    guard=fact.gt(0) if fact is DATING_CRL_MM else fact.le(GOOD_DAY), verdicts=()
                ),
            )
        )
        assert not _dating_read_only_by_gestation([reads])  # type: ignore[list-item]
