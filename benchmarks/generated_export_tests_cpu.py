"""Where the two slowest generated-export tests spend their CPU: plans compiled, statements run.

`tests/audit/test_fhir_mapping_agrees.py::test_sql_flattening_equals_the_service_mapping`
("flatten") and `tests/records/test_engines_agree.py::test_duckdb_reads_every_record_as_the_
service_does` ("duckdb") read Hypothesis-drawn exports (derandomized: the same exports in every
checkout). This runs one of them (its first ``N`` examples, or all) in this process and prints its
CPU seconds (all threads), the plans compiled (`ibis_compile._record_plan`: count, CPU, statements)
and the CPU of `run_records` (which includes the compiles). Run it with a fresh plan cache, as a
fresh clone's CI has, once per checkout, in turn (stop 37, w-medref37):

    d=$(mktemp -d); EARLYPATH_PLAN_CACHE=$d PYTHONPATH=<checkout> \\
        .venv/bin/python benchmarks/generated_export_tests_cpu.py duckdb [N]

from the checkout (its `tests` are the ones imported).
"""

from __future__ import annotations

import collections
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from earlypath.audit import fhir_read
from earlypath.records import ibis_compile


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


stats: collections.Counter[str] = collections.Counter()
_plan = ibis_compile._record_plan
_run = ibis_compile.run_records


def _counted_plan(*args: Any, **kwargs: Any) -> Any:
    start = _cpu()
    plan = _plan(*args, **kwargs)
    stats["compile_s"] += _cpu() - start
    stats["compiles"] += 1
    stats["statements_compiled"] += len(plan.statements)
    return plan


def _counted_run(*args: Any, **kwargs: Any) -> Any:
    start = _cpu()
    out = _run(*args, **kwargs)
    stats["run_records_s"] += _cpu() - start
    stats["runs"] += 1
    return out


class _TempPaths:
    """`tmp_path_factory` as the tests use it."""

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=name))


def main() -> None:
    which = sys.argv[1]
    ibis_compile._record_plan = _counted_plan  # type: ignore[assignment]
    fhir_read.run_records = _counted_run  # type: ignore[assignment]
    # (the duckdb test's `compiled_reading` imports it by name when its module is imported)
    ibis_compile.run_records = _counted_run  # type: ignore[assignment]
    if which == "flatten":
        from tests.audit import test_fhir_mapping_agrees as tests

        test = tests.test_sql_flattening_equals_the_service_mapping
    else:
        from tests.records import test_engines_agree as tests  # type: ignore[no-redef]

        test = tests.test_duckdb_reads_every_record_as_the_service_does  # type: ignore[assignment]
    if len(sys.argv) > 2:  # its first N examples (the same N on each checkout)
        from hypothesis import HealthCheck, Phase, given, settings

        test = settings(
            max_examples=int(sys.argv[2]),
            deadline=None,
            derandomize=True,
            database=None,
            phases=(Phase.explicit, Phase.reuse, Phase.generate),
            suppress_health_check=list(HealthCheck),
        )(
            given(export=tests.exports(tests.COHORT, tests.COHORT_SHAPES))(
                test.hypothesis.inner_test
            )
        )
    cpu, wall = _cpu(), time.time()
    test(tmp_path_factory=_TempPaths())
    figures = {k: round(v, 1) for k, v in stats.items()}
    print(f"{which}: cpu {_cpu() - cpu:.1f} s, wall {time.time() - wall:.1f} s, {figures}")


if __name__ == "__main__":
    main()
