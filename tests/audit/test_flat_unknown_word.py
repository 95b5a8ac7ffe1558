"""The flat form's word ``unknown`` for ``on_progesterone`` (a current medicine that cannot be
identified) and, since stop 25, for ``miscarriage_diagnosed`` (a miscarriage dated to a month or
a year only that may fall in this pregnancy): Unknown, so the decision needs information on every
engine, never the "false" an empty cell of these columns means."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit

HEADER = (
    "episode_id,assessed_on,previous_miscarriages,vaginal_bleeding,lmp,scan_date,"
    "scan_location,fetal_pole,fetal_heartbeat,crl_mm,miscarriage_diagnosed,on_progesterone\n"
)
# An eligible woman (bleeding, a previous miscarriage, an intrauterine pregnancy with a
# heartbeat at 7 weeks); only on_progesterone (and one miscarriage_diagnosed) differs.
ELIGIBLE = "2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,10,"
ROWS = {
    "empty": f"{ELIGIBLE},",
    "false": f"{ELIGIBLE},false",
    "true": f"{ELIGIBLE},true",
    "unknown": f"{ELIGIBLE},unknown",
    "padded": f"{ELIGIBLE}, Unknown ",
    "diagnosis-unknown": "2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,10,unknown,",
    "not-a-word": "2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,10,maybe,",
}
ENGINES = ["duckdb", "python", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.mark.parametrize("engine", ENGINES)
def test_unknown_on_progesterone_needs_information(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(HEADER + "".join(f"{k},{v}\n" for k, v in ROWS.items()), encoding="utf-8")
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    run_audit(cohort, tmp_path / "out", engine=engine, spark=spark)  # type: ignore[arg-type]
    episodes = {
        r["episode_id"]: r for r in pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    }
    decisions = {k: r["decision"] for k, r in episodes.items()}
    assert decisions == {
        "empty": "offer",  # an empty cell of this column means false (the contract's default)
        "false": "offer",
        "true": "continue",
        "unknown": "needs_information",
        "padded": "needs_information",
        "diagnosis-unknown": "needs_information",
    }
    assert episodes["unknown"]["missing"] == ["on_progesterone"]
    assert episodes["diagnosis-unknown"]["missing"] == ["miscarriage_diagnosed"]
    with (tmp_path / "out" / "rejects.csv").open(encoding="utf-8", newline="") as f:
        rejects = list(csv.DictReader(f))
    assert [(r["episode_id"], r["reason"]) for r in rejects] == [
        ("not-a-word", "miscarriage_diagnosed: is not true or false")
    ]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    found = json.dumps(summary)
    # five empty miscarriage_diagnosed cells and two empty on_progesterone (of the rows judged):
    # the three that say "unknown" are not empty cells read as false
    assert '"empty_cells_read_as_false": 7' in found
