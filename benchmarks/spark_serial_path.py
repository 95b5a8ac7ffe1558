"""The Spark audit's serial path in CPU seconds: the work of the thread every step waits for.

    python benchmarks/spark_serial_path.py --rows 1000000 --runs 3 --before /tmp/main-copy

Before and after the one Spark job, a local audit is a chain: Python's main thread calls the
JVM (py4j), and one JVM thread serves those calls (reading the cohort, parsing and analysing the
judging's SQL, planning and compiling the job). Work on other threads (DuckDB's search for the
repeated ids, the parser's warm-up, the JIT) runs beside that chain when a core is free. So the
chain's own CPU is the serial part a second core cannot shorten, and unlike wall time it does
not move much with the machine's load. Printed for each checkout (medians of ``--runs`` fresh
processes, taken in turn after one untimed audit each, which writes the JVM's class archive and
the kept plans):

- ``sql``: CPU of the JVM thread serving Python's main thread during ``spark.sql`` of the
  judging (parsing and analysing its SQL);
- ``chain before job``: that thread's CPU from the audit's start until the judging's write is
  called (reading and numbering the cohort, the judging's SQL), and ``chain in all`` to the
  audit's end (the write's planning and code generation included: the tasks run on other
  threads);
- ``python main``: Python's main thread CPU over the audit;
- ``jvm all`` and ``wall``: the whole JVM's CPU (every thread) and the audit's wall seconds;
- ``tail`` and ``join wait``: Python's tail after the job in wall seconds (from the judging's
  write to the audit's end), and of it the main thread's wait for the episodes' join
  (`EpisodesJoin.finish`): wall times, so read them only beside the load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if "--worker" not in sys.argv:  # (a worker imports the checkout on its PYTHONPATH)
    sys.path.insert(0, str(HERE.parent))

FIGURES = (
    "sql",
    "chain_before_job",
    "chain_in_all",
    "python_main",
    "jvm_all",
    "wall",
    "tail",
    "join_wait",
)


def _worker(master: str, source: Path, out: Path) -> None:
    import ibis
    from spark_shared import jvm_pid, process_cpu

    from earlypath.audit import run, spark_audit
    from earlypath.audit.load import spark_session

    ibis.duckdb.connect().disconnect()  # module loading is start-up, not audit work
    spark = spark_session(master)
    threads = spark._jvm.java.lang.management.ManagementFactory.getThreadMXBean()  # type: ignore[attr-defined]
    jvm = jvm_pid(spark)

    def chain() -> float:  # (the JVM thread that serves this Python thread's calls)
        return float(threads.getCurrentThreadCpuTime()) / 1e9

    def jvm_all() -> float:
        return process_cpu(jvm)

    figures: dict[str, float] = {}
    marks: dict[str, float] = {}
    real_sql, real_write = spark.sql, spark_audit._write_sorted_parts

    def sql(*args: object, **kwargs: object) -> object:
        before = chain()
        try:
            return real_sql(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            figures["sql"] = figures.get("sql", 0.0) + chain() - before

    def write(*args: object, **kwargs: object) -> object:
        figures["chain_before_job"] = chain() - chain_start
        try:
            return real_write(*args, **kwargs)
        finally:
            marks["job_end"] = time.perf_counter()

    real_finish = spark_audit.EpisodesJoin.finish

    def finish(self: spark_audit.EpisodesJoin) -> int:
        waited = time.perf_counter()
        try:
            return real_finish(self)
        finally:
            figures["join_wait"] = time.perf_counter() - waited

    spark.sql = sql  # type: ignore[method-assign]
    spark_audit._write_sorted_parts = write  # type: ignore[assignment]
    spark_audit.EpisodesJoin.finish = finish  # type: ignore[method-assign]
    jvm_start, chain_start, python_start = jvm_all(), chain(), time.thread_time()
    started = time.perf_counter()
    run.run_audit(source, out, engine="spark", spark=spark)
    figures["wall"] = time.perf_counter() - started
    figures["tail"] = time.perf_counter() - marks["job_end"]
    figures["chain_in_all"] = chain() - chain_start
    figures["python_main"] = time.thread_time() - python_start
    figures["jvm_all"] = jvm_all() - jvm_start
    process = spark.sparkContext._gateway.proc  # type: ignore[attr-defined]
    spark.stop()
    if process.stdin is not None:
        process.stdin.close()  # (the JVM exits when its stdin closes; it may write its archive)
    process.wait(timeout=300)
    print(json.dumps({**figures, "code": str(Path(run.__file__).resolve().parents[2])}))


def _run(checkout: Path, master: str, source: Path, out: Path) -> dict[str, float]:
    cmd = [sys.executable, str(HERE / "spark_serial_path.py"), "--worker", "--master", master]
    cmd += ["--input", str(source), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{checkout} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    code = result.pop("code")  # type: ignore[call-overload]
    if Path(str(code)) != checkout:
        raise SystemExit(f"the worker for {checkout} ran the code of {code}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--before", type=Path, help="another checkout, run in turn")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--input", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.worker:
        _worker(args.master, args.input, args.out)
        return
    from earlypath.synth import write_cohort

    checkouts = {"this checkout": HERE.parent}
    if args.before is not None:
        checkouts["before"] = args.before.resolve()
    results: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    with tempfile.TemporaryDirectory(prefix="spark-serial-") as folder:
        source = Path(folder) / f"cohort-{args.rows}.parquet"
        write_cohort(args.rows, 1, "parquet", source)
        for name, checkout in checkouts.items():  # untimed: class archive, kept plans
            _run(checkout, args.master, source, Path(folder) / f"warm-{len(name)}")
        for turn in range(args.runs):
            for name, checkout in checkouts.items():
                out = Path(folder) / f"out-{turn}-{len(name)}"
                results[name].append(_run(checkout, args.master, source, out))
                print(f"{name} run {turn + 1}: {results[name][-1]} load {os.getloadavg()[0]:.1f}")
    print(f"\n{args.rows:,} rows, {args.master}, medians of {args.runs} (CPU s; wall s):")
    for name, runs in results.items():
        medians = ", ".join(
            f"{key} {statistics.median(r[key] for r in runs):.3f}" for key in FIGURES
        )
        print(f"  {name}: {medians}")


if __name__ == "__main__":
    main()
