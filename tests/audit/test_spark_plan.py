"""The Spark audit's judging SQL is kept between runs (issue 16, `earlypath.audit.spark_plan`):
the kept text is the text ibis renders, this run's repeated ids put in as Spark literals (a
quote or a backslash in an id included), and a kept plan audits as a built one."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from earlypath.audit import spark_plan
from earlypath.audit.duckdb_plan import PLACEHOLDER
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


def _last_judging() -> Any:
    import pyspark

    from earlypath.records.plan_cache import load_plan

    return load_plan(spark_plan.plan_key(spark_plan.LAST_JUDGING, pyspark.__version__))


def test_the_judging_last_built_is_kept_for_the_next_audits_parser(
    tmp_path: Path, spark: Any, builds: list[str]
) -> None:
    con = connect("spark", spark)
    assert _last_judging() is None
    assert spark_plan.warm_the_parser(spark) is None  # nothing kept yet: no warm-up
    one = load_raw(con, _cohort(tmp_path / "one.csv", ["e1", "e2"]))
    first = spark_plan.judging_sql(con, one, Policy(), [])
    assert _last_judging() == {"judged": first}
    spark_plan.judging_sql(con, one, Policy(), [])  # kept: not built, the last one unchanged
    assert builds == ["built"]
    assert _last_judging() == {"judged": first}
    second = spark_plan.judging_sql(con, one, Policy(), ["x"])  # another plan: a list
    assert builds == ["built", "built"]
    assert _last_judging() == {"judged": second.replace("'x'", "'" + PLACEHOLDER + "'")}


class _Parser:
    """Spark's own SQL parser (the session's, over py4j), with the texts it was given."""

    def __init__(self, real: Any) -> None:
        self.real, self.texts = real, []

    def parsePlan(self, text: str) -> Any:  # noqa: N802 (Spark's name)
        self.texts.append(text)
        return self.real.parsePlan(text)


class _Session:
    """``spark`` whose JVM session hands out `_Parser`: the warm-up reaches the parser so."""

    def __init__(self, spark: Any) -> None:
        self.parser = _Parser(spark._jsparkSession.sessionState().sqlParser())
        state = type("State", (), {"sqlParser": lambda _: self.parser})()
        self._jsparkSession = type("Jvm", (), {"sessionState": lambda _: state})()


def test_the_parser_parses_the_kept_judging_in_a_thread_and_never_raises(
    tmp_path: Path, spark: Any, builds: list[str]
) -> None:
    import threading

    con = connect("spark", spark)
    raw = load_raw(con, _cohort(tmp_path / "c.csv", ["e1", "e2"]))
    kept = spark_plan.judging_sql(con, raw, Policy(), ["x"])  # a list: its placeholder kept
    session = _Session(spark)
    threads: list[str] = []
    session.parser.real = _ThreadNoted(session.parser.real, threads)
    warmed = spark_plan.warm_the_parser(session)
    assert warmed is not None
    assert warmed.result(timeout=120) is None
    assert session.parser.texts == [_last_judging()["judged"]]
    assert "'x'" in kept and session.parser.texts[0] != kept  # the kept text, ids not put in
    assert threads and threads[0] != threading.current_thread().name
    # Text Spark cannot parse (a kept file from elsewhere): the warm-up ends without an error
    import pyspark

    from earlypath.records.plan_cache import save_plan

    key = spark_plan.plan_key(spark_plan.LAST_JUDGING, pyspark.__version__)
    save_plan(key, {"judged": "SELECT FROM WHERE((("})
    broken = _Session(spark)
    warmed = spark_plan.warm_the_parser(broken)
    assert warmed is not None
    assert warmed.result(timeout=120) is None
    assert broken.parser.texts == ["SELECT FROM WHERE((("]


class _ThreadNoted:
    def __init__(self, real: Any, threads: list[str]) -> None:
        self.real, self.threads = real, threads

    def parsePlan(self, text: str) -> Any:  # noqa: N802 (Spark's name)
        import threading

        self.threads.append(threading.current_thread().name)
        return self.real.parsePlan(text)
