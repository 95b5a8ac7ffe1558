"""The suite's order list: read from a run's --durations lines, longest file first."""

from __future__ import annotations

import json
from pathlib import Path

from tests.module_seconds import load_module_seconds, seconds_from_durations

LOG = """\
============================= slowest durations =============================
281.53s setup    tests/audit/test_spark_agreement.py::test_x[counts]
12.00s call     tests/audit/test_spark_agreement.py::test_x[counts]
0.50s teardown tests/unit/test_a.py::test_y
99.92s call     tests/audit/test_fhir_mapping_agrees.py::test_z
(3 durations < 0.005s hidden.  Use -vv to show these durations.)
7526 passed in 1978.91s (0:32:58)
"""


def test_each_files_setup_call_and_teardown_are_summed() -> None:
    assert seconds_from_durations(LOG) == {
        "tests/audit/test_spark_agreement.py": 293.53,
        "tests/unit/test_a.py": 0.5,
        "tests/audit/test_fhir_mapping_agrees.py": 99.92,
    }


def test_the_kept_list_names_files_that_exist(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps({"tests/x.py": 3}), encoding="utf-8")
    assert load_module_seconds(tmp_path / "s.json") == {"tests/x.py": 3.0}
    assert load_module_seconds(tmp_path / "absent.json") == {}
    root = Path(__file__).resolve().parents[2]
    stale = [f for f in load_module_seconds() if not (root / f).is_file()]
    assert not stale, f"tests/module_seconds.json names files that are gone: {stale}"


class _Options:
    def __init__(self, dist: str) -> None:
        self.dist = dist

    def getoption(self, name: str, default: object = None) -> object:
        return self.dist if name == "dist" else default


def test_the_two_spark_agreement_modules_are_one_unit_of_loadfile() -> None:
    import tests.conftest as suite

    scheduling = suite._one_jvm_scheduling()
    split = scheduling.__new__(scheduling)._split_scope  # (the split reads nothing of its own)
    audit, reading = suite.ONE_JVM
    assert split(f"{audit}::test_spark_counts_the_whole_export_as_duckdb_does") == audit
    assert split(f"{reading}::test_spark_reads_each_scenario_as_duckdb_does[x]") == audit
    # every other file is a unit of its own, as xdist's loadfile makes it
    assert split("tests/audit/test_spark_audit.py::test_a") == "tests/audit/test_spark_audit.py"
    assert split("tests/unit/test_a.py::TestB::test_c") == "tests/unit/test_a.py"
    root = Path(__file__).resolve().parents[2]
    assert all((root / f).is_file() for f in suite.ONE_JVM)


def test_only_loadfile_gets_the_suites_scheduling() -> None:
    import tests.conftest as suite

    for dist in ("load", "loadscope", "loadgroup", "no"):
        assert suite.pytest_xdist_make_scheduler(_Options(dist), None) is None  # type: ignore[arg-type]
