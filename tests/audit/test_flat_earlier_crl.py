"""The flat form's earlier dating CRL (`earlier_crl_mm`, `earlier_crl_date`; stop 44, issue 12):
every engine dates the row by it as the card's `episode_facts` dates an episode with that
earlier scan, and rejects a bad pair with the same words."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from earlypath.audit import flat
from earlypath.audit.run import evaluate
from earlypath.engines.python import assess
from earlypath.model import parse_episode
from tests.audit.helpers import episode_results, fetched

# An intrauterine pregnancy today with no CRL and no LMP; bleeding, a previous miscarriage.
ROW: dict[str, Any] = {
    "episode_id": "x",
    "assessed_on": "2024-03-04",
    "previous_miscarriages": "1",
    "vaginal_bleeding": "true",
    "scan_date": "2024-03-04",
    "scan_location": "intrauterine",
    "fetal_pole": "true",
}
# Robinson & Fleming: 9.5 mm is 49 days; three days later, 52
EARLIER = {"earlier_crl_date": "2024-03-01", "earlier_crl_mm": "9.5"}
DATED = {
    "no-lmp": ({**ROW, **EARLIER}, ("offer", 52)),
    "lmp-22-weeks": ({**ROW, **EARLIER, "lmp": "2023-10-01"}, ("offer", 52)),
    # the earlier CRL dates her before the row's own (the earliest, as episode_facts)
    "and-today": ({**ROW, **EARLIER, "crl_mm": "12.0"}, ("offer", 52)),
    "zero-earlier": ({**ROW, **EARLIER, "earlier_crl_mm": "0", "crl_mm": "9.5"}, ("offer", 49)),
    "none": (ROW, ("needs_information", None)),
}
BAD = {
    "mm-without-date": ({"earlier_crl_mm": "9.5"}, [flat.EARLIER_CRL_DATE_NEEDED]),
    "date-without-mm": ({"earlier_crl_date": "2024-03-01"}, [flat.EARLIER_CRL_MM_NEEDED]),
    "same-day": ({**EARLIER, "earlier_crl_date": "2024-03-04"}, [flat.EARLIER_CRL_NOT_EARLIER]),
    "no-scan": (
        {**EARLIER, "scan_date": None, "scan_location": None, "fetal_pole": None},
        [flat.EARLIER_CRL_NOT_EARLIER],
    ),
    "over-120": ({**EARLIER, "earlier_crl_mm": "121"}, ["earlier_crl_mm: must be between"]),
    "before-lmp": (
        {**EARLIER, "lmp": "2024-03-02"},
        ["earlier_crl_date: is before the lmp"],
    ),
}


def _write(rows: list[dict[str, Any]], path: Path) -> Path:
    names = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, names)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _judged(path: Path, engine: str) -> tuple[dict[str, tuple], dict[str, str]]:
    episodes, rejects = fetched(evaluate(path, engine))  # type: ignore[arg-type]
    return (
        {e["episode_id"]: episode_results(e) for e in episodes},
        {r["episode_id"]: r["reject_reason"] for r in rejects},
    )


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [{**row, "episode_id": name} for name, (row, _) in DATED.items()]
    rows += [{**ROW, **change, "episode_id": name} for name, (change, _) in BAD.items()]
    return _write(rows, tmp_path_factory.mktemp("flat") / "cohort.csv")


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_each_engine_dates_by_the_earlier_crl(cohort: Path, engine: str) -> None:
    judged, _ = _judged(cohort, engine)
    for name, (_, (decision, days)) in DATED.items():
        assert (judged[name][0], judged[name][-1]) == (decision, days), name


def test_the_card_dates_the_same_episode_alike() -> None:
    """The reference: the episode with that earlier scan, as `episode_facts` reads it."""
    for name, (row, (decision, days)) in DATED.items():
        typed = {n: flat.parse_column_cell(n, row.get(n)) for n in flat.FLAT_COLUMNS}
        got = assess(parse_episode(flat.flat_to_episode(typed)), sections=("progesterone",))
        gestation = got["gestation"]
        assert got["progesterone"]["decision"] == decision, name
        assert (gestation["days"] if gestation else None) == days, name


def test_both_engines_reject_a_bad_pair_naming_the_same_fields(cohort: Path) -> None:
    """The flat form's own problems in the same words; the contract's (a range, a date before
    the LMP) naming the same cell, as for the row's own scan (the Python engine words a range
    as pydantic does: `test_validation_matches_model.py`)."""
    python, duckdb = (_judged(cohort, engine)[1] for engine in ("python", "duckdb"))
    field = re.compile(r"(?:^|; )([a-z_]+): ")
    for name, (_, words) in BAD.items():
        assert all(w in duckdb[name] for w in words), (name, duckdb[name])
        assert set(field.findall(python[name])) == set(field.findall(duckdb[name])), name
        if name != "over-120":
            assert python[name] == duckdb[name], name


def test_episode_to_flat_round_trips_the_earlier_crl() -> None:
    typed = {n: flat.parse_column_cell(n, DATED["and-today"][0].get(n)) for n in flat.FLAT_COLUMNS}
    row = flat.episode_to_flat(flat.flat_to_episode(typed))
    assert (row["earlier_crl_date"], row["earlier_crl_mm"]) == (dt.date(2024, 3, 1), 9.5)
    assert row["crl_mm"] == 12.0
