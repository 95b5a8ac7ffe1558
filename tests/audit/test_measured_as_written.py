"""The DuckDB pass reads the CRL as written where the cleaned cell is the same (issue 16, stop
32): the flag's cross-field checks and the rules of the accepted rows read the cell as written,
so the cleaning (NaN and the infinities made NULL, a CASE on every row) is not computed in the
audit's COPY; every row is flagged, given its reason and judged as with the cleaned cell
(`earlypath.audit.validate.as_written_when_accepted`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from earlypath.audit.judge import _episodes, dating_as_the_scan
from earlypath.audit.validate import accepted_rows
from earlypath.engines.batch import assess_table
from earlypath.policy import DEFAULT_POLICY
from tests.audit.checks_forms import checked_on_duckdb
from tests.audit.helpers import GOOD_DAY, GOOD_ROW

NAN, INF = float("nan"), float("inf")
CRLS = (None, 0.0, 7.0, 84.5, NAN, INF, -INF, -1.0, 121.0)
# Every CRL, readable or not, with and without a scan date, with and without a fetal pole (a
# CRL without a pole is a cross-field problem), on and off progesterone
ROWS = [
    {
        **GOOD_ROW,
        "episode_id": f"c{i}-s{j}-f{k}-p{p}",
        "crl_mm": crl,
        "scan_date": scan,
        "fetal_pole": pole,
        "fetal_heartbeat": None,
        "msd_mm": None,
        "on_progesterone": bool(p),
    }
    for i, crl in enumerate(CRLS)
    for j, scan in enumerate((GOOD_DAY, GOOD_DAY - dt.timedelta(days=20), None))
    for k, pole in enumerate((True, False, None))
    for p in (0, 1)
]
OUT = ("episode_id", "gestation_days", "decision", "recommendations", "missing")


def _checked() -> tuple[Any, Any]:
    return checked_on_duckdb(ROWS)


def _sql(con: Any, table: Any) -> str:
    return " ".join(str(con.compile(table)).replace('"', "").split())


def test_the_flag_and_the_rules_read_the_crl_as_written() -> None:
    con, checked = _checked()
    # The flag's "CRL without a fetal pole" reads the cell as written (the reason: the cleaned)
    flagged = _sql(con, checked)
    assert re.search(
        r"t\d+\._crl_mm_as_written IS NOT NULL\) AND \(t\d+\.fetal_pole = FALSE", flagged
    )
    assert re.search(r"t\d+\.crl_mm IS NOT NULL\) AND \(t\d+\.fetal_pole = FALSE", flagged)
    # The gestation of the accepted rows reads the cell as written (after an earlier scan's
    # dating CRL, which comes first when there is one: stop 44, HAZ-20 C20.31; and none when it
    # is not known to be verified: stop 45, C20.30)
    judged = _sql(con, _episodes(checked, [], DEFAULT_POLICY))
    assert re.search(
        r"SQRT\(CASE WHEN t(\d+)\.earlier_crl_mm > 0 THEN t\1\.earlier_crl_mm"
        r" WHEN t\1\.crl_unverified THEN CAST\(NULL AS DOUBLE\)"
        r" ELSE t\1\._crl_mm_as_written END\)",
        judged,
    )
    assert not re.search(r"SQRT\(t\d+\.crl_mm\)", judged)


def test_every_row_is_flagged_and_judged_as_with_the_cleaned_crl() -> None:
    con, checked = _checked()
    rows = con.to_pyarrow(checked.select("episode_id", "_rejected", "reject_reason")).to_pylist()
    # The flag marks exactly the rows with a reason; a CRL that is not a number is named as
    # such, never as a CRL without a fetal pole (the reason reads the cleaned cell: NULL)
    assert all(r["_rejected"] == (r["reject_reason"] is not None) for r in rows)
    reasons = {r["episode_id"]: r["reject_reason"] for r in rows}
    assert reasons["c4-s0-f1-p0"] == "crl_mm: is not a number"
    assert reasons["c5-s0-f1-p0"] == "crl_mm: is not a number"
    assert "fetal_pole" in reasons["c2-s0-f1-p0"]  # a readable CRL without a pole
    assert reasons["c2-s0-f0-p0"] is None
    judged = con.to_pyarrow(_episodes(checked, [], DEFAULT_POLICY).select(*OUT)).to_pylist()
    cleaned = assess_table(
        dating_as_the_scan(accepted_rows(checked), DEFAULT_POLICY), DEFAULT_POLICY
    )
    assert judged == con.to_pyarrow(cleaned.select(*OUT)).to_pylist()
    assert {r["episode_id"] for r in judged} == {
        e for e, reason in reasons.items() if reason is None
    }
    days = {r["episode_id"]: r["gestation_days"] for r in judged}
    assert days["c2-s0-f0-p0"] is not None  # a 7 mm CRL scanned today: dated by it
