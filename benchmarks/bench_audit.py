"""Benchmark the cohort audit: episodes per second on DuckDB and Spark against the python reference.

    python benchmarks/bench_audit.py                  # 1,000,000 rows (a few minutes)
    python benchmarks/bench_audit.py --rows 10000000 --engines duckdb   # the 10M-row target

Each engine runs the whole audit (load, validation in the engine, the compiled rules, adherence,
episodes.parquet, rejects.csv, summary.json, report.html) in its own subprocess, so each peak
memory figure is that engine's alone: ru_maxrss of the process (for Spark, the Python driver;
the JVM's peak, VmHWM, is read from /proc before the session stops). Every engine, the python
reference included, audits the same cohort (about two minutes for python at 1M rows);
``--python-sample N`` times python on an N-row cohort instead and extrapolates linearly, for a
quick look (labelled as such in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _worker(engine: str, source: Path, out: Path) -> None:
    from earlypath.audit.run import run_audit

    # Start-up is not throughput: load the modules every engine uses (ibis's DuckDB backend)
    # before the clock starts, so each figure is per-episode work.
    warm_started = time.perf_counter()
    import ibis

    ibis.duckdb.connect().disconnect()
    warm_up_seconds = time.perf_counter() - warm_started
    spark = None
    if engine == "spark":
        from earlypath.audit.load import spark_session

        spark = spark_session("local[2]")
    started = time.perf_counter()
    result = run_audit(source, out, engine=engine, spark=spark)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    jvm_peak_mb = 0.0
    if spark is not None:
        jvm_peak_mb = _jvm_peak_mb(spark)
        spark.stop()
    print(
        json.dumps(
            {
                "engine": engine,
                "rows_in": result.rows_in,
                "evaluated": result.evaluated,
                "rejected": result.rejected,
                "seconds": seconds,
                "warm_up_seconds": warm_up_seconds,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "jvm_peak_rss_mb": jvm_peak_mb,
            }
        )
    )


def _jvm_peak_mb(spark: object) -> float:
    """Peak RSS (VmHWM) of the Spark JVM this driver launched, read from /proc; 0 if unknown."""
    try:
        pid = spark.sparkContext._gateway.proc.pid  # type: ignore[attr-defined]
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (AttributeError, OSError, ValueError):
        pass
    return 0.0


def _run(engine: str, source: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", engine, "--input", str(source), "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", default="python,duckdb,spark")
    parser.add_argument("--python-sample", type=int, default=0, help="0: the whole cohort")
    parser.add_argument("--worker")
    parser.add_argument("--input", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.input, args.out)
        return

    from earlypath.audit.synth import write_cohort

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    with tempfile.TemporaryDirectory(prefix="earlypath-bench-") as tmp:
        folder = Path(tmp)
        cohort = folder / "cohort.parquet"
        started = time.perf_counter()
        write_cohort(args.rows, args.seed, "parquet", cohort)
        print(f"synth: {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        results = {}
        for engine in engines:
            source = cohort
            if engine == "python" and 0 < args.python_sample < args.rows:
                source = folder / "sample.parquet"
                write_cohort(args.python_sample, args.seed, "parquet", source)
            r = _run(engine, source, folder / f"out-{engine}")
            r["episodes_per_second"] = r["rows_in"] / r["seconds"]
            if r["rows_in"] < args.rows:
                r["extrapolated_seconds"] = args.rows / r["episodes_per_second"]
            results[engine] = r
            extra = (
                f" (timed on {r['rows_in']:,} rows; {args.rows:,} rows would take "
                f"~{r['extrapolated_seconds']:.0f} s)"
                if "extrapolated_seconds" in r
                else ""
            )
            print(
                f"{engine:>7}: {r['rows_in']:,} rows in {r['seconds']:.1f} s = "
                f"{r['episodes_per_second']:,.0f} episodes/s; peak RSS {r['peak_rss_mb']:,.0f} MB"
                + (f" (+ JVM {r['jvm_peak_rss_mb']:,.0f} MB)" if engine == "spark" else "")
                + extra
            )
        if "python" in results:
            base = results["python"]["episodes_per_second"]
            for engine, r in results.items():
                if engine != "python":
                    print(f"{engine} / python = {r['episodes_per_second'] / base:,.0f}x")
        print(json.dumps({"rows": args.rows, "cpus": os.cpu_count(), "results": results}))


if __name__ == "__main__":
    main()
