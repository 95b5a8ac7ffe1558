"""The DuckDB audit benchmark's rounds (`benchmarks/bench_audit.py`): the audit and the
hand-written query run in turn, one each a round, the order rotated, and each ratio is taken
within its round (so a load that moves between rounds moves both sides of a ratio)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import bench_audit  # noqa: E402


def test_rounds_rotate_and_ratios_are_taken_within_a_round(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[str] = []
    # The audit costs twice the query; a load that grows with the calls (x1, x1, x2, x2, x2, x3)
    # leaves the first two rounds' ratios at 2.0x
    slow = {"duckdb": 2.0, "baseline": 1.0}

    def fake_run(engine: str, source: Path, out: Path, code: Path | None = None) -> dict:
        calls.append("before" if code is not None else engine)
        factor = 1 + len(calls) // 3
        seconds = slow["duckdb" if code is not None else engine] * factor
        return {"engine": engine, "seconds": seconds, "cpu_seconds": seconds, "rows_in": 1}

    monkeypatch.setattr(bench_audit, "_run", fake_run)
    rounds = bench_audit.paired_rounds(
        ["duckdb", "baseline"], tmp_path / "c.parquet", tmp_path, None, 3
    )
    assert calls == ["duckdb", "baseline", "baseline", "duckdb", "duckdb", "baseline"]
    ratios = bench_audit.round_ratios(rounds, "duckdb")
    assert ratios["wall"] == ratios["cpu"]
    assert all(r == pytest.approx(2.0) for r in ratios["wall"][:2])
    merged = bench_audit.medians([r["duckdb"] for r in rounds])
    assert merged["seconds"] == sorted(r["duckdb"]["seconds"] for r in rounds)[1]
