"""Python work done by a thread while a DuckDB audit's own thread waits on DuckDB (issue 16,
stop 34): the output modules imported during the COPY, the report's funnel limits worked out
while the summary's last statements run, episodes.parquet synced and summed while the
rest is written and the audit's DuckDB connection ended while the outputs are published (stop
35). Each thread's error is raised by the audit, and nothing is
published; the COPY's memory limit is left on the audit's own connection."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from earlypath.audit import funnel, output, pass_duckdb
from earlypath.audit import run as run_module
from earlypath.audit.output import STAGING_PREFIX
from earlypath.audit.report import render_report
from earlypath.audit.run import OUTPUTS, run_audit
from earlypath.audit.sql_table import PlainDuckDB
from earlypath.synth import write_cohort
from tests.audit.test_publish_faults import entries_noted


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "cohort.parquet"
    write_cohort(3000, 7, "parquet", path)  # several sites: a funnel plot
    return path


def _nothing_published(out: Path) -> bool:
    left = list(out.iterdir()) if out.exists() else []
    return not any(p.name in OUTPUTS or p.name.startswith(STAGING_PREFIX) for p in left)


def test_the_output_modules_are_imported_by_a_thread(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    importers: list[str] = []
    import_all = run_module._import_all

    def noted(names: Any) -> None:
        importers.append(threading.current_thread().name)
        import_all(names)

    monkeypatch.setattr(run_module, "_import_all", noted)
    run_audit(cohort, tmp_path / "out")
    assert importers == ["earlypath-imports"]


def test_an_error_of_the_import_thread_is_raised_and_nothing_is_published(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = (*run_module.OUTPUT_MODULES, "earlypath.audit.no_such_module")
    monkeypatch.setattr(run_module, "OUTPUT_MODULES", modules)
    out = tmp_path / "out"
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        run_audit(cohort, out)
    assert _nothing_published(out)


def test_the_funnel_limits_are_worked_out_beside_the_summary_once(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    funnel.funnel_limits.cache_clear()  # (another test of this worker may have kept them)
    callers: list[str] = []
    limit = funnel.binomial_limit

    def noted(target: float, n: int, q: float) -> float:
        callers.append(threading.current_thread().name)
        return limit(target, n, q)

    monkeypatch.setattr(funnel, "binomial_limit", noted)
    result = run_audit(cohort, tmp_path / "out")
    assert len(result.summary["funnel"]["points"]) > 1
    # every limit by the summary's thread, each once; the report asks for none again
    assert set(callers) == {"earlypath-funnel-limits"}
    assert len(callers) == 2 * funnel.funnel_limits.cache_info().currsize
    before = len(callers)
    assert render_report(result.summary) == (tmp_path / "out" / "report.html").read_text("utf-8")
    assert len(callers) == before


def test_an_error_working_out_the_limits_is_raised_by_the_summary(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    funnel.funnel_limits.cache_clear()

    def broken(target: float, n: int, q: float) -> float:
        raise ArithmeticError("incomplete beta did not converge")

    monkeypatch.setattr(funnel, "binomial_limit", broken)
    out = tmp_path / "out"
    with pytest.raises(ArithmeticError) as raised:
        run_audit(cohort, out)
    assert "build_summary" in [entry.name for entry in raised.traceback]
    assert _nothing_published(out)
    funnel.funnel_limits.cache_clear()


def _limit(duck: Any) -> str:
    return str(duck.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


def test_the_copy_s_memory_limit_can_be_left_and_is_reset_after_an_error() -> None:
    duck = duckdb.connect()
    default = _limit(duck)
    with pass_duckdb.bounded_copy_memory(duck, restore_default=False):
        during = _limit(duck)
    assert during != default
    assert _limit(duck) == during  # left: the connection is the audit's own
    duck.execute("RESET memory_limit")
    with (
        pytest.raises(OSError, match="disk"),
        pass_duckdb.bounded_copy_memory(duck, restore_default=False),
    ):
        raise OSError("the disk is full")
    assert _limit(duck) == default


def test_the_audit_s_connection_is_closed_once_its_outputs_are_published(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[PlainDuckDB] = []

    class Noted(PlainDuckDB):  # the audit's own connection, kept here after the audit
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(run_module, "PlainDuckDB", Noted)
    out = tmp_path / "out"
    result = run_audit(cohort, out)
    assert result.rows_in == 3000 and (out / "manifest.json").is_file()
    # Closed by the audit (a connection only dropped would still answer the reference held
    # here), by a thread that has ended by the time the audit returns.
    [con] = made
    with pytest.raises(duckdb.ConnectionException, match="closed"):
        con.con.execute("SELECT 1")
    assert "earlypath-duckdb-end" not in [t.name for t in threading.enumerate()]


def test_the_episodes_file_is_synced_and_summed_beside_the_rest(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    takers = entries_noted(monkeypatch)
    run_audit(cohort, tmp_path / "out")
    assert takers.pop("episodes.parquet") == "earlypath-seal"
    assert set(takers.values()) == {threading.current_thread().name}
    assert set(takers) == set(OUTPUTS) - {"episodes.parquet"}
    output.open_audit_output(tmp_path / "out")  # every file matches the manifest
