"""Count the Spark audit's calls into the JVM, and the loading's CPU, checkout against checkout.

    python benchmarks/spark_load_calls.py --rows 1000000 --runs 3 --before /tmp/main-copy

Each run is a fresh process: a local Spark session is started (not counted), then one whole
``run_audit`` of a Parquet cohort; every py4j call the process makes during it is counted, in
all and during the loading (``load._load_spark``: reading, numbering, spreading the rows), with
the loading's wall time, Python CPU and JVM CPU (from /proc). The calls are a count, not a time:
they do not move with the machine's load. The checkouts run in turn (this one, then
``--before``), so the load falls on each alike; the cohort is written once
(``earlypath.synth.write_cohort``) and shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from spark_shared import jvm_cpu

HERE = Path(__file__).resolve().parent


def _worker(root: Path, cohort: Path, out: Path, master: str) -> dict[str, Any]:
    sys.path.insert(0, str(root))
    import ibis
    from py4j.protocol import MEMORY_COMMAND_NAME

    from earlypath.audit import load
    from earlypath.audit.run import run_audit

    ibis.duckdb.connect().disconnect()  # module loading is start-up, not audit work
    spark = load.spark_session(master)
    client = spark.sparkContext._gateway._gateway_client
    counted = {"all": 0, "loading": 0}
    loading = [0]
    send = client.send_command

    def counting_send(command: str, *args: Any, **kwargs: Any) -> Any:
        # (not py4j's deletions of Java objects Python has dropped: they follow the collector)
        if not command.startswith(MEMORY_COMMAND_NAME):
            counted["all"] += 1
            counted["loading"] += loading[0]
        return send(command, *args, **kwargs)

    client.send_command = counting_send
    spent: dict[str, float] = {}
    load_spark = load._load_spark

    def timed_load(*args: Any, **kwargs: Any) -> Any:
        loading[0] = 1
        wall, python, jvm = time.perf_counter(), time.process_time(), jvm_cpu(spark)
        try:
            return load_spark(*args, **kwargs)
        finally:
            spent["loading wall s"] = time.perf_counter() - wall
            spent["loading Python CPU s"] = time.process_time() - python
            spent["loading JVM CPU s"] = jvm_cpu(spark) - jvm
            loading[0] = 0

    load._load_spark = timed_load
    started = time.perf_counter()
    run_audit(cohort, out, engine="spark", spark=spark)
    spent["audit wall s"] = time.perf_counter() - started
    client.send_command = send
    spark.stop()
    if not Path(load.__file__).resolve().is_relative_to(root.resolve()):
        raise RuntimeError(f"{load.__file__} is not in {root}: run with PYTHONPATH unset")
    return {"py4j calls": counted["all"], "py4j calls loading": counted["loading"], **spent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--before", type=Path, help="another checkout, run in turn")
    parser.add_argument(
        "--worker", nargs=3, metavar=("ROOT", "COHORT", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        root, cohort, out = (Path(a) for a in args.worker)
        print(json.dumps(_worker(root, cohort, out, args.master)))
        return
    roots = {"this": HERE.parent, **({"before": args.before.resolve()} if args.before else {})}
    with tempfile.TemporaryDirectory() as folder:
        cohort = Path(folder) / f"cohort-{args.rows}.parquet"
        sys.path.insert(0, str(HERE.parent))
        from earlypath.synth import write_cohort

        write_cohort(args.rows, 1, "parquet", cohort)
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in roots}
        for run in range(args.runs):
            for name, root in roots.items():
                out = Path(folder) / f"out-{name}-{run}"
                command = [sys.executable, str(Path(__file__).resolve()), "--master", args.master]
                command += ["--worker", str(root), str(cohort), str(out)]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                results[name].append(figures)
                print(name, run, json.dumps(figures), flush=True)
        for name, runs in results.items():
            medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(name, "median", json.dumps({k: round(v, 3) for k, v in medians.items()}))


if __name__ == "__main__":
    main()
