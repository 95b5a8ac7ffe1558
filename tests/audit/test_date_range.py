"""The contract's date range (1900-01-01 to 2199-12-31) holds alike on the API's model, the CLI
and every audit engine: a date outside it is a reject naming the field, never a crash, and
every date inside it is judged (the plan's date arithmetic cannot overflow)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from earlypath.engines.python import assess
from earlypath.errors import InputError
from earlypath.model import parse_episode
from earlypath.model.episode import DATE_RANGE_MESSAGE, EARLIEST_DATE, LATEST_DATE
from tests.audit.helpers import fetched, write_rows

CLI = [sys.executable, "-c", "from earlypath.cli import main; main()"]
ONE_DAY = dt.timedelta(days=1)

GOOD: dict[str, Any] = {
    "episode_id": "x",
    "assessed_on": dt.date(2024, 3, 4),
    "previous_miscarriages": 1,
    "vaginal_bleeding": True,
    "lmp": dt.date(2024, 1, 15),
    "scan_date": dt.date(2024, 3, 4),
    "scan_location": "intrauterine",
    "fetal_pole": True,
    "fetal_heartbeat": True,
    "crl_mm": 9.5,
    "progesterone_prescribed": True,
}
# Rows with a date just outside the range (and nothing else wrong with them).
LATE = LATEST_DATE + ONE_DAY
FAR = dt.date(9999, 12, 31)
OUT_OF_RANGE = {
    "assessed_on_9999": (
        {"assessed_on": FAR, "lmp": FAR - 50 * ONE_DAY, "scan_date": FAR},
        {"assessed_on", "lmp", "scan_date"},
    ),
    "assessed_on_just_late": (
        {"assessed_on": LATE, "lmp": None, "scan_date": LATE, "guideline_version": "2023-08-23"},
        {"assessed_on", "scan_date"},
    ),
    "scan_long_ago": (
        {"lmp": None, "scan_date": EARLIEST_DATE - ONE_DAY},
        {"scan_date"},
    ),
}


def _episode(assessed: dt.date, lmp: dt.date | None, scan: dt.date, crl: float | None) -> dict:
    episode: dict[str, Any] = {
        "assessed_on": assessed.isoformat(),
        "guideline_version": "2023-08-23",
        "previous_miscarriages": 1,
        "vaginal_bleeding": True,
        "rhesus_d": "negative",
        "pain": "mild",
        "scans": [
            {
                "date": scan.isoformat(),
                "location": "intrauterine",
                "fetal_pole": True,
                "fetal_heartbeat": True,
                "crl_mm": crl,
            }
        ],
        "hcg": [
            {"taken_at": f"{scan.isoformat()}T00:00:00", "iu_per_l": 1000},
            {"taken_at": f"{assessed.isoformat()}T23:59:00", "iu_per_l": 2000},
        ],
    }
    if lmp is not None:
        episode["lmp"] = lmp.isoformat()
    return episode


def test_contract_names_the_field_and_the_bound() -> None:
    with pytest.raises(InputError) as caught:
        parse_episode({"assessed_on": "9999-12-31"})
    assert [str(p) for p in caught.value.problems] == [f"assessed_on: {DATE_RANGE_MESSAGE}"]
    with pytest.raises(InputError) as caught:
        parse_episode(
            {"assessed_on": "2024-03-04", "hcg": [{"taken_at": "1899-12-31T10:00", "iu_per_l": 5}]}
        )
    assert [p.field for p in caught.value.problems] == ["hcg[0].taken_at"]


def test_every_date_inside_the_range_is_assessed_without_error() -> None:
    # The edges of the range in every combination, with CRLs that date the pregnancy to ~0
    # or ~110,000 days: the plan's stop date and the gestation stay inside the calendar.
    edges = [EARLIEST_DATE, EARLIEST_DATE + ONE_DAY, dt.date(2024, 3, 4), LATEST_DATE]
    judged = 0
    for assessed, lmp, scan, crl in itertools.product(
        edges, [None, *edges], edges, [None, 0.5, 84.0, 120.0]
    ):
        try:
            episode = parse_episode(_episode(assessed, lmp, scan, crl))
        except InputError:
            continue  # an order the contract refuses (a scan after assessed_on, ...)
        assess(episode)
        judged += 1
    assert judged > 50


def test_cli_exits_2_for_a_date_past_the_range(tmp_path: Path) -> None:
    path = tmp_path / "far.json"
    path.write_text(json.dumps(_episode(FAR, None, FAR, 9.5)))
    done = subprocess.run(
        [*CLI, "assess", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"assessed_on: {DATE_RANGE_MESSAGE}")
    assert "internal error" not in done.stderr


def _reasons(path: Path, engine: str, spark: Any = None) -> tuple[list, dict[int, str]]:
    from earlypath.audit.run import evaluate

    episodes, rejects = fetched(evaluate(path, engine, spark=spark))  # type: ignore[arg-type]
    return [e["row_number"] for e in episodes], {
        r["row_number"]: r["reject_reason"] for r in rejects
    }


def _cohort(tmp_path: Path) -> Path:
    rows = [{**GOOD, "episode_id": "good"}]
    rows += [{**GOOD, **change, "episode_id": name} for name, (change, _) in OUT_OF_RANGE.items()]
    edge = {"assessed_on": LATEST_DATE, "lmp": None, "scan_date": LATEST_DATE}
    rows.append({**GOOD, **edge, "guideline_version": "2023-08-23", "episode_id": "edge"})
    return write_rows(rows, tmp_path / "dates.parquet")


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_audit_engines_reject_out_of_range_dates_alike(engine: str, tmp_path: Path) -> None:
    evaluated, rejects = _reasons(_cohort(tmp_path), engine)
    assert evaluated == [1, 5]  # the good row and the one on the last day of the range
    assert sorted(rejects) == [2, 3, 4]
    for row, (_, fields) in zip([2, 3, 4], OUT_OF_RANGE.values(), strict=True):
        for field in fields:
            assert f"{field}: {DATE_RANGE_MESSAGE}" in rejects[row]


@pytest.mark.spark
def test_spark_rejects_out_of_range_dates_as_duckdb_does(tmp_path: Path, spark: Any) -> None:
    path = _cohort(tmp_path)
    assert _reasons(path, "spark", spark) == _reasons(path, "duckdb")
