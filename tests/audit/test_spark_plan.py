"""The Spark audit's judging SQL is kept between runs (issue 16, `earlypath.audit.spark_plan`):
the kept text is the text ibis renders, this run's repeated ids put in as Spark literals (a
quote or a backslash in an id included), and a kept plan audits as a built one."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from earlypath.audit import spark_plan
from earlypath.audit.judge import _extras, _judged
from earlypath.audit.load import connect, load_raw
from earlypath.audit.run import run_audit
from earlypath.audit.validate import repeated_ids
from earlypath.policy import Policy
from tests.audit.test_duckdb_plan import _cohort

pytestmark = pytest.mark.spark

# A quote, a backslash, both: Spark's literals escape with a backslash (DuckDB doubles the
# quote, which Spark would read as two literals run together: "its").
ODD_IDS = ["it's", "back\\slash", "it\\'s"]


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Each time the judging SQL is built (not taken from the kept plan), in a fresh folder."""
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(tmp_path / "plans"))
    built: list[str] = []
    real = spark_plan._build

    def counted(*args: Any, **kwargs: Any) -> str:
        built.append("built")
        return real(*args, **kwargs)

    monkeypatch.setattr(spark_plan, "_build", counted)
    return built


def test_the_kept_sql_is_what_ibis_renders_with_this_runs_ids(
    tmp_path: Path, spark: Any, builds: list[str]
) -> None:
    con = connect("spark", spark)
    raw = load_raw(con, _cohort(tmp_path / "c.csv", ["e1", "e2"]))
    policy = Policy()
    for repeated in ([], ["x"], ODD_IDS, ["y", "z"], repeated_ids(raw)):
        rendered = con.compile(_judged(raw, _extras(raw), policy, repeated))
        assert spark_plan.judging_sql(con, raw, policy, repeated) == rendered, repeated
    assert builds == ["built", "built", "built"]  # none, a list, a table: one plan each


def _rejects(out: Path) -> dict[str, str]:
    with open(out / "rejects.csv", encoding="utf-8", newline="") as handle:
        return {row["row_number"]: row["reason"] for row in csv.DictReader(handle)}


def test_a_kept_plan_audits_this_cohorts_repeated_ids(
    tmp_path: Path, spark: Any, builds: list[str]
) -> None:
    first = _cohort(tmp_path / "a.csv", ["x", "x", "y"])
    second = _cohort(tmp_path / "b.csv", ["x", *ODD_IDS, *ODD_IDS, "y"])
    run_audit(first, tmp_path / "a", engine="spark", spark=spark)
    run_audit(second, tmp_path / "b", engine="spark", spark=spark)
    assert builds == ["built"]  # same columns and types: the second audit used the kept SQL
    assert _rejects(tmp_path / "a") == {
        "1": "episode_id: is not unique",
        "2": "episode_id: is not unique",
    }
    assert _rejects(tmp_path / "b") == {
        str(n): "episode_id: is not unique" for n in (2, 3, 4, 5, 6, 7)
    }
