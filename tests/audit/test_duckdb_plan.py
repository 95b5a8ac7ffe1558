"""The DuckDB pass's judging SQL is kept between runs (issue 16): the same outputs, no rebuilding
when nothing changed, a rebuild when something did, and the repeated ids put in on each run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from earlypath.audit import duckdb_plan
from earlypath.audit.run import run_audit
from earlypath.policy import Policy

HEADER = (
    "episode_id,assessed_on,previous_miscarriages,vaginal_bleeding,lmp,scan_date,"
    "scan_location,fetal_pole,fetal_heartbeat,crl_mm,progesterone_prescribed,site"
)
OFFER = "2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,9.5,false,A"
OUTPUTS = ("episodes.parquet", "rejects.csv", "cases-eligible-not-offered.csv")


def _cohort(path: Path, ids: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *(f"{i}," + OFFER for i in ids)]) + "\n", encoding="utf-8")
    return path


def _rejects(out: Path) -> dict[str, str]:
    with open(out / "rejects.csv", encoding="utf-8", newline="") as handle:
        return {row["row_number"]: row["reason"] for row in csv.DictReader(handle)}


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Each time the judging SQL is built (not taken from the kept plan), in a fresh folder."""
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(tmp_path / "plans"))
    built: list[str] = []
    real = duckdb_plan._build

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        built.append("built")
        return real(*args, **kwargs)

    monkeypatch.setattr(duckdb_plan, "_build", counted)
    return built


def test_a_kept_plan_gives_the_same_outputs_without_building(
    tmp_path: Path, builds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _cohort(tmp_path / "c.csv", ["e1", "e2", "e2", "e3", "", "e4"])
    run_audit(source, tmp_path / "first")
    assert builds == ["built"]
    run_audit(source, tmp_path / "second")
    assert builds == ["built"]  # the kept SQL was used
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", "off")
    run_audit(source, tmp_path / "unkept")
    for name in OUTPUTS:
        first = (tmp_path / "first" / name).read_bytes()
        assert first == (tmp_path / "second" / name).read_bytes(), name
        assert first == (tmp_path / "unkept" / name).read_bytes(), name
    assert _rejects(tmp_path / "second") == {
        "2": "episode_id: is not unique",
        "3": "episode_id: is not unique",
        "5": "episode_id: is required",
    }


def test_the_repeated_ids_are_this_runs_not_the_kept_ones(
    tmp_path: Path, builds: list[str]
) -> None:
    run_audit(_cohort(tmp_path / "a.csv", ["x", "x", "y", "it's"]), tmp_path / "a")
    run_audit(_cohort(tmp_path / "b.csv", ["x", "y", "y", "it's", "it's"]), tmp_path / "b")
    assert builds == ["built"]  # same columns and types: one plan
    assert _rejects(tmp_path / "a") == {
        "1": "episode_id: is not unique",
        "2": "episode_id: is not unique",
    }
    assert _rejects(tmp_path / "b") == {
        "2": "episode_id: is not unique",
        "3": "episode_id: is not unique",
        "4": "episode_id: is not unique",
        "5": "episode_id: is not unique",
    }


def test_another_policy_or_no_repeated_ids_builds_again(tmp_path: Path, builds: list[str]) -> None:
    source = _cohort(tmp_path / "c.csv", ["e1", "e2"])
    run_audit(source, tmp_path / "a")
    run_audit(source, tmp_path / "b", policy=Policy(stop_at="16+6"))
    assert builds == ["built", "built"]
    run_audit(_cohort(tmp_path / "d.csv", ["e1", "e1"]), tmp_path / "d")  # a list of ids now
    assert builds == ["built", "built", "built"]


def test_a_damaged_plan_is_built_again(tmp_path: Path, builds: list[str]) -> None:
    source = _cohort(tmp_path / "c.csv", ["e1", "e2"])
    run_audit(source, tmp_path / "a")
    for kept in (tmp_path / "plans").glob("*.json"):
        kept.write_text('{"checked": 1}', encoding="utf-8")
    run_audit(source, tmp_path / "b")
    assert builds == ["built", "built"]
    assert (tmp_path / "a" / "episodes.parquet").read_bytes() == (
        tmp_path / "b" / "episodes.parquet"
    ).read_bytes()
