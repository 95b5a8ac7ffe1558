"""Validation in the engine (SQL) rejects exactly the rows the pydantic episode contract rejects.

The python engine path validates with `earlypath.model.parse_episode` (after the flat mapping);
the DuckDB path validates in SQL (`earlypath.audit.validate`). Same rows, same verdicts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from earlypath.audit.flat import flat_to_episode
from earlypath.audit.run import evaluate
from earlypath.errors import InputError
from earlypath.model import parse_episode
from tests.audit.helpers import results, write_rows
from tests.audit.strategies import cohorts

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
# Each change alone breaks the contract (or the flat form); the model must agree where it applies.
BAD = {
    "count_negative": {"previous_miscarriages": -1},
    "count_over_50": {"previous_miscarriages": 51},
    "crl_negative": {"crl_mm": -0.01},
    "crl_over_120": {"crl_mm": 120.01},
    "msd_over_120": {"msd_mm": 121.0},
    "lmp_after": {"lmp": dt.date(2024, 3, 5)},
    "lmp_too_old": {"lmp": dt.date(2024, 3, 4) - dt.timedelta(days=316)},
    "scan_after": {"scan_date": dt.date(2024, 3, 5)},
    "scan_before_lmp": {"scan_date": dt.date(2024, 1, 14)},
    "heartbeat_without_pole": {"fetal_pole": False, "crl_mm": None},
    "crl_without_pole": {"fetal_pole": False, "fetal_heartbeat": None},
    "bad_location": {"scan_location": "tube"},
    "bad_route": {"scan_route": "oral"},
    "long_allergy": {"allergies": "a" * 201},
    "unknown_version": {"guideline_version": "2020-01-01"},
}
EDGE_OK = {
    "count_50": {"previous_miscarriages": 50},
    "crl_120": {"crl_mm": 120.0},
    "crl_0": {"crl_mm": 0.0},
    "lmp_315_days": {"lmp": dt.date(2024, 3, 4) - dt.timedelta(days=315)},
    "lmp_same_day": {"lmp": dt.date(2024, 3, 4)},
    "scan_on_lmp": {"scan_date": dt.date(2024, 1, 15)},
    "allergy_200": {"allergies": "a" * 200},
    "requested_version_before_ng126": {
        "assessed_on": dt.date(2018, 1, 1),
        "lmp": None,
        "scan_date": dt.date(2017, 12, 30),
        "guideline_version": "2019-04-17",
    },
}


def _model_rejects(row: dict[str, Any]) -> bool:
    try:
        parse_episode(flat_to_episode(row))
    except InputError:
        return True
    return False


@pytest.mark.parametrize("change", list(BAD.values()), ids=list(BAD))
def test_sql_rejects_what_the_model_rejects(change: dict, tmp_path: Path) -> None:
    row = {**GOOD, **change}
    if "allergies" not in change and "guideline_version" not in change:
        assert _model_rejects(row)
    evaluated, rejected = results(write_rows([row], tmp_path / "c.parquet"), "duckdb")
    assert list(rejected) == [1] and not evaluated


@pytest.mark.parametrize("change", list(EDGE_OK.values()), ids=list(EDGE_OK))
def test_sql_accepts_what_the_model_accepts(change: dict, tmp_path: Path) -> None:
    row = {**GOOD, **change}
    assert not _model_rejects(row)
    evaluated, rejected = results(write_rows([row], tmp_path / "c.parquet"), "duckdb")
    assert list(evaluated) == [1] and not rejected


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=cohorts(max_size=30, broken=True))
def test_generated_rows_are_rejected_alike(rows: list[dict], tmp_path_factory: Any) -> None:
    path = write_rows(rows, tmp_path_factory.mktemp("v") / "c.parquet")
    _, python_rejects = results(path, "python")
    _, sql_rejects = results(path, "duckdb")
    assert sql_rejects == python_rejects


@pytest.mark.parametrize("change", list(BAD.values()), ids=list(BAD))
def test_both_engines_name_the_same_fields_in_a_reject(change: dict, tmp_path: Path) -> None:
    # The reference engine words its reasons as the episode contract does, but it must name the
    # flat columns, as SQL does: rejects.csv and the data-quality counts are by field.
    import re

    path = write_rows([{**GOOD, **change}], tmp_path / "c.parquet")
    field = re.compile(r"(?:^|; )([A-Za-z_][A-Za-z_0-9.\[\]]*): ")
    named = {}
    for engine in ("duckdb", "python"):
        ev = evaluate(path, engine)  # type: ignore[arg-type]
        (reason,) = [r["reject_reason"] for r in ev.con.to_pyarrow(ev.rejects).to_pylist()]
        named[engine] = set(field.findall(reason))
    assert named["python"] and named["python"] <= named["duckdb"]


CSV_CELLS = [
    ("assessed_on", "2024-02-30"),
    ("assessed_on", "04/03/2024"),
    ("assessed_on", "2024-3-4"),
    ("lmp", "yesterday"),
    ("previous_miscarriages", "1.5"),
    ("previous_miscarriages", "one"),
    ("previous_miscarriages", "99999999999999999999999"),
    ("crl_mm", "nan"),
    ("crl_mm", "inf"),
    ("crl_mm", "9,5"),
    ("vaginal_bleeding", "maybe"),
    ("on_progesterone", "2"),
    ("progesterone_prescribed", "perhaps"),
    ("crl_mm", "1e400"),
    ("assessed_on", "2023-02-29"),
    ("assessed_on", "2024-03-04T10:00"),
    ("vaginal_bleeding", "truee"),
    ("prescribed_on", "2024-13-01"),
    ("scan_location", "Intrauterine"),  # the words are lower case; only spaces are forgiven
    ("scan_route", "trans vaginal"),
    ("vaginal_bleeding", "\u00a0true"),  # a no-break space is not trimmed, by any engine
    ("fetal_pole", "false\x1c"),
]
CSV_OK = [
    ("vaginal_bleeding", "YES"),
    ("vaginal_bleeding", " n "),
    ("vaginal_bleeding", "T"),
    ("previous_miscarriages", "+2"),
    ("crl_mm", "9.5e0"),
    ("crl_mm", ".5"),
    ("crl_mm", "12."),
    ("on_progesterone", ""),
    ("scan_route", ""),
    ("assessed_on", " 2024-03-04 "),
    ("previous_miscarriages", "0001"),
    ("crl_mm", "-0.0"),
    ("vaginal_bleeding", "\tFalse\t"),
    ("scan_route", " transabdominal "),
    ("scan_location", "intrauterine\t"),
    ("scan_location", "ectopic"),
    ("vaginal_bleeding", "no"),
    ("vaginal_bleeding", "\x0btrue\x0c"),
]
HEADER = [
    "episode_id",
    "assessed_on",
    "previous_miscarriages",
    "vaginal_bleeding",
    "lmp",
    "scan_date",
    "scan_location",
    "fetal_pole",
    "fetal_heartbeat",
    "crl_mm",
    "on_progesterone",
    "progesterone_prescribed",
    "prescribed_on",
    "scan_route",
]
BASE_CELLS = {
    "episode_id": "x",
    "assessed_on": "2024-03-04",
    "previous_miscarriages": "1",
    "vaginal_bleeding": "true",
    "lmp": "2024-01-15",
    "scan_date": "2024-03-04",
    "scan_location": "intrauterine",
    "fetal_pole": "true",
    "fetal_heartbeat": "true",
    "crl_mm": "9.5",
    "on_progesterone": "false",
    "progesterone_prescribed": "true",
    "prescribed_on": "2024-03-04",
    "scan_route": "transvaginal",
}


def _csv(tmp_path: Path, cells: list[tuple[str, str]]) -> Path:
    import csv

    path = tmp_path / "c.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i, (column, value) in enumerate(cells):
            w.writerow([{**BASE_CELLS, "episode_id": f"e{i}", column: value}[h] for h in HEADER])
    return path


def test_csv_cell_grammar_is_the_same_in_sql_and_python(tmp_path: Path) -> None:
    path = _csv(tmp_path, CSV_CELLS + CSV_OK)
    py_ok, py_bad = results(path, "python")
    sql_ok, sql_bad = results(path, "duckdb")
    assert sql_ok == py_ok and sql_bad == py_bad
    assert sorted(sql_bad) == list(range(1, len(CSV_CELLS) + 1))


@pytest.mark.spark
def test_csv_cell_grammar_on_spark(tmp_path: Path, spark: Any) -> None:
    path = _csv(tmp_path, CSV_CELLS + CSV_OK)
    assert results(path, "spark", spark) == results(path, "duckdb")
