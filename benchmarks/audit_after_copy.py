"""The wall time of a DuckDB audit after its COPY, two checkouts in turn (issue 16, stop 35).

    python benchmarks/audit_after_copy.py COHORT --checkout /tmp/main-x --checkout /tmp/branch-x

Each audit runs in a fresh process (its modules imported before the clock, as `bench_audit.py`
does) and prints: the whole audit's wall and CPU seconds, the wall after ``write_one_pass``
returns (the rejects, the summary, the case list, the report, the publish, the connection's
end) and after the case list's thread has finished (the publish and the connection's end: the
serial end of the audit, which `bench_audit.py --split`'s estimate, a sum of statements, does
not see). The checkouts run one after the other, ``--pairs`` times; the medians and each
pair's difference (the second checkout less the first) are printed. Wall time moves with the
load: compare the pairs' differences, and give the load average beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KEYS = ("wall", "cpu", "after_copy", "after_cases")


def _worker(cohort: Path, out: Path) -> None:
    import earlypath.audit.case_list as case_list
    import earlypath.audit.run as run

    marks: dict[str, float] = {}
    write_one_pass, finish = run.write_one_pass, case_list.CaseListInBackground.finish

    def written(*args: Any, **kwargs: Any) -> int:
        rows = write_one_pass(*args, **kwargs)
        marks["copied"] = time.perf_counter()
        return rows

    def finished(self: Any) -> int:
        cases = finish(self)
        marks["cases"] = time.perf_counter()
        return cases

    run.write_one_pass = written
    case_list.CaseListInBackground.finish = finished  # type: ignore[method-assign]
    started, cpu = time.perf_counter(), time.process_time()
    run.run_audit(cohort, out)
    ended = time.perf_counter()
    figures = [ended - started, time.process_time() - cpu]
    figures += [ended - marks["copied"], ended - marks["cases"]]
    print(json.dumps(dict(zip(KEYS, figures, strict=True))))


def _one(checkout: Path, cohort: Path, out: Path) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    command = [sys.executable, __file__, "--worker", str(cohort), "--out", str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cohort", type=Path)
    parser.add_argument("--checkout", type=Path, action="append", default=[])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.worker:
        _worker(args.cohort, args.out)
        return
    if len(args.checkout) != 2:
        parser.error("give two --checkout folders (the first is the one compared against)")
    runs: list[list[dict[str, float]]] = [[], []]
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.pairs):
            for i, checkout in enumerate(args.checkout):
                runs[i].append(_one(checkout, args.cohort, Path(folder) / "out"))
    print(f"{args.pairs} pairs, load average now {os.getloadavg()[0]:.1f}")
    for key in KEYS:
        first, second = ([r[key] for r in side] for side in runs)
        less = [b - a for a, b in zip(first, second, strict=True)]
        print(
            f"{key}: {statistics.median(first):.3f} s / {statistics.median(second):.3f} s, "
            f"pairs' difference median {statistics.median(less):+.3f} s "
            f"(lower in {sum(d < 0 for d in less)} of {len(less)})"
        )


if __name__ == "__main__":
    main()
