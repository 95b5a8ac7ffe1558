"""Helpers for the audit tests: typed flat rows -> Parquet, engines -> comparable results."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from earlypath.audit.run import evaluate

FLAT_SCHEMA = pa.schema(
    [
        ("episode_id", pa.string()),
        ("assessed_on", pa.date32()),
        ("guideline_version", pa.string()),
        ("previous_miscarriages", pa.int64()),
        ("vaginal_bleeding", pa.bool_()),
        ("lmp", pa.date32()),
        ("scan_date", pa.date32()),
        ("scan_route", pa.string()),
        ("scan_location", pa.string()),
        ("fetal_pole", pa.bool_()),
        ("fetal_heartbeat", pa.bool_()),
        ("crl_mm", pa.float64()),
        ("msd_mm", pa.float64()),
        ("miscarriage_diagnosed", pa.bool_()),
        ("on_progesterone", pa.bool_()),
        ("allergies", pa.string()),
        ("progesterone_prescribed", pa.bool_()),
        ("prescribed_on", pa.date32()),
        ("site", pa.string()),
    ]
)

# A typed flat row that passes every check: a woman with bleeding, a previous miscarriage and an
# intrauterine pregnancy with a heartbeat on a transvaginal scan today, dated by her LMP.
GOOD_DAY = dt.date(2024, 3, 4)
GOOD_ROW: dict[str, Any] = {
    "episode_id": "e1",
    "assessed_on": GOOD_DAY,
    "previous_miscarriages": 1,
    "vaginal_bleeding": True,
    "lmp": dt.date(2024, 1, 15),
    "scan_date": GOOD_DAY,
    "scan_route": "transvaginal",
    "scan_location": "intrauterine",
    "fetal_pole": True,
    "fetal_heartbeat": True,
    "crl_mm": 9.5,
}


def write_rows(rows: list[dict[str, Any]], path: Path) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=FLAT_SCHEMA), path)
    return path


def episode_results(e: dict[str, Any]) -> tuple:
    """What an engine decided for one evaluated row, comparable across engines."""
    return (
        e["decision"],
        list(e["recommendations"]),
        list(e["missing"]),
        e["adherence"],
        e["guideline_version"],
        e["gestation_days"],
    )


def fetched(ev: Any) -> tuple[list[dict], list[dict]]:
    """The evaluated and rejected rows of an evaluation, checked to add up to its input."""
    episodes = ev.con.to_pyarrow(ev.episodes).to_pylist()
    rejects = ev.con.to_pyarrow(ev.rejects).to_pylist()
    assert ev.rows_in == len(episodes) + len(rejects)
    return episodes, rejects


def results(path: Path, engine: str, spark: Any = None) -> tuple[dict, dict]:
    """({row_number: (decision, recommendations, missing, adherence, version)}, {row_number: episode_id})
    for the evaluated and the rejected rows."""
    episodes, rejects = fetched(evaluate(path, engine, spark=spark))  # type: ignore[arg-type]
    out = {e["row_number"]: episode_results(e) for e in episodes}
    return out, {r["row_number"]: r["episode_id"] for r in rejects}
