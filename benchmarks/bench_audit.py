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

The same-run baseline (issue 16): ``baseline`` is a hand-written DuckDB query, in its own
subprocess, that reads the same cohort and writes the same episode columns to Parquet (the
version in force, the gestation, a 2021-style progesterone decision, its recommendations and
missing names, adherence), with no validation, no rejects and no report. It is a yardstick for
speed only, never a source of rules. ``--baseline-only`` times just DuckDB and the baseline;
the output prints the audit's time, its ratio to the baseline (wall and CPU time: on a busy
shared machine the CPU ratio is the steadier one), its start-up (importing the audit, from a
fresh process; for DuckDB also the CPU of a whole 2-row audit in a fresh process, its SQL kept,
and whether it imported ibis, and of the same audit through ``python -m earlypath audit``) and
both peak RSS figures.

The DuckDB audit and the hand-written query are run ``--repeat`` times (default 5), in turn, a
fresh process each: round after round, one of each, the order rotated each round so neither
side always runs first. Each round's audit is divided by the same round's query (the two ran
seconds apart, under about the same load), and the printed ratio is the median of those
per-round ratios, with their range: on a shared machine one pair's ratio moves by 0.5x or more,
the median of five much less. The python reference and Spark run once (their figure is the
throughput against python, 100x: not a fine ratio).

``--before /work/main`` also times the DuckDB audit of another checkout (the code before a
change), as a third process in each round, and its ratio to the same round's query:

    python benchmarks/bench_audit.py --baseline-only --before /work/main --repeat 5

``--split`` times only the audit's COPY in steps, on its own connection and judging SQL, and the
hand-written query on the same connection: the input read and the columns passed through
written, then the rows the checks accept, then the whole COPY (the rules added); the differences
are what the checks and the rules cost per run (CPU medians of ``--repeat``). It also gives each
step's CPU by thread (from /proc: the hand-written query's ``row_number() OVER ()`` is a
Streaming Window, which keeps its pipeline on one thread, while the audit's COPY runs on two),
and a whole audit's statements (``--repeat`` audits, the median shown) with their busiest
thread's CPU: the sum of those and of the Python between them is the wall time on an idle
2-core machine, estimated from CPU figures that the load moves much less than wall time:

    python benchmarks/bench_audit.py --split --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


# A speed yardstick only (see the module docstring): never a source of clinical rules.
BASELINE_SQL = """
COPY (
  WITH c AS (
    SELECT *, row_number() OVER () AS row_number,
      coalesce(
        CASE WHEN crl_mm > 0 AND crl_mm <= 84 AND scan_date IS NOT NULL
             THEN CAST(floor(8.052 * sqrt(crl_mm) + 23.73 + 0.5) AS BIGINT)
                  + (assessed_on - scan_date) END,
        assessed_on - lmp) AS gestation_days
    FROM read_parquet({source})
  ), d AS (
    SELECT *,
      CASE WHEN assessed_on >= DATE '2021-11-24' THEN '2021-11'
           WHEN assessed_on >= DATE '2019-04-17' THEN '2019-04' END AS guideline_version,
      CASE WHEN scan_location = 'intrauterine' THEN TRUE
           WHEN scan_location = 'ectopic' THEN FALSE END AS iup
    FROM c
  ), j AS (
    SELECT *,
      CASE
        WHEN on_progesterone AND fetal_heartbeat AND gestation_days < 112 THEN 'continue'
        WHEN on_progesterone AND gestation_days >= 112 THEN 'stop'
        WHEN NOT iup OR NOT vaginal_bleeding OR previous_miscarriages < 1
             OR miscarriage_diagnosed OR gestation_days >= 112 THEN 'do_not_offer'
        WHEN iup AND vaginal_bleeding AND previous_miscarriages >= 1
             AND NOT miscarriage_diagnosed AND gestation_days < 112 THEN 'offer'
        ELSE 'needs_information' END AS decision
    FROM d
  )
  SELECT row_number, episode_id, assessed_on, strftime(assessed_on, '%Y-%m') AS month,
    guideline_version, gestation_days, decision,
    CASE decision WHEN 'offer' THEN ['1.5.2'] WHEN 'continue' THEN ['1.5.3']
         WHEN 'stop' THEN ['1.5.3'] ELSE []::VARCHAR[] END AS recommendations,
    list_filter([CASE WHEN iup IS NULL THEN 'scans' END,
                 CASE WHEN vaginal_bleeding IS NULL THEN 'vaginal_bleeding' END,
                 CASE WHEN previous_miscarriages IS NULL THEN 'previous_miscarriages' END,
                 CASE WHEN gestation_days IS NULL THEN 'lmp' END], lambda x: x IS NOT NULL)
      AS missing,
    progesterone_prescribed,
    CASE WHEN decision = 'needs_information' THEN 'undecidable'
         WHEN progesterone_prescribed IS NULL THEN 'care_unknown'
         WHEN decision = 'offer' AND progesterone_prescribed THEN 'offered'
         WHEN decision = 'offer' THEN 'not_offered'
         WHEN decision = 'do_not_offer' AND progesterone_prescribed THEN 'given_outside_guideline'
         WHEN decision = 'do_not_offer' THEN 'not_given_per_guideline'
         ELSE 'undecidable' END AS adherence,
    site, age_band, ethnicity, deprivation_quintile
  FROM j
) TO {target} (FORMAT parquet, COMPRESSION zstd)
"""


def _baseline_worker(source: Path, out: Path) -> None:
    """The hand-written query, timed from a fresh process (plain DuckDB: import and connect)."""
    warm_started = time.perf_counter()
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    started = time.perf_counter()
    cpu = _cpu_seconds()
    quote = "'{}'".format
    con.execute(
        BASELINE_SQL.format(
            source=quote(str(source).replace("'", "''")),
            target=quote(str(out / "episodes.parquet").replace("'", "''")),
        )
    )
    rows = con.execute(
        f"SELECT count(*) FROM read_parquet({quote(str(out / 'episodes.parquet'))})"
    ).fetchone()[0]
    con.close()
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    warm_up = started - warm_started
    print(
        json.dumps(
            {
                "engine": "baseline",
                "rows_in": rows,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "warm_up_seconds": warm_up,
                "peak_rss_mb": peak,
            }
        )
    )


def _worker(engine: str, source: Path, out: Path, code: Path | None = None) -> None:
    if engine == "baseline":
        _baseline_worker(source, out)
        return
    if code is not None:  # another checkout's earlypath (--before), ahead of this one
        sys.path.insert(0, str(code))
    # Start-up is not throughput: load the audit's modules (and for Spark ibis's backend) before
    # the clock starts, so each figure is per-episode work; the start-up is timed on its own
    # (the issue-16 goal: under 0.3 s), and a whole tiny audit in `_startup_worker`. A DuckDB
    # audit whose SQL is kept imports no ibis (earlypath.audit.sql_table).
    warm_started = time.perf_counter()
    from earlypath.audit.run import run_audit

    if engine == "spark":
        import ibis

        ibis.duckdb.connect().disconnect()
    warm_up_seconds = time.perf_counter() - warm_started
    spark = None
    if engine == "spark":
        from earlypath.audit.load import spark_session

        spark = spark_session("local[2]")
    started = time.perf_counter()
    cpu = _cpu_seconds()
    result = run_audit(source, out, engine=engine, spark=spark)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
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
                "cpu_seconds": cpu,
                "warm_up_seconds": warm_up_seconds,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "jvm_peak_rss_mb": jvm_peak_mb,
            }
        )
    )


# The audit's COPY in steps (``--split``): each step adds one part of the audit's per-row work to
# the one before, so the differences are what each part costs. The input columns written
# straight through stand for the episode columns of the same names (the rest are computed).
_PASSED_THROUGH = (
    "row_number",
    "episode_id",
    "assessed_on",
    "progesterone_prescribed",
    "site",
    "age_band",
    "ethnicity",
    "deprivation_quintile",
)


def _split_worker(source: Path, out: Path, repeat: int) -> None:
    """Where the audit's COPY goes beyond the hand-written query, on the audit's own connection
    and judging SQL (built by `evaluate`, as `run_audit` builds it), each step timed ``repeat``
    times in turn (CPU seconds, medians): the input read and the passed-through columns written
    (no checks, no rules); the same columns of the rows the checks accept (the checks' filter,
    which also reads and cleans the columns only the checks need); the audit's COPY (the rules,
    adherence and month added); and the hand-written query on the same connection."""
    from earlypath.audit.load import sql_text
    from earlypath.audit.pass_duckdb import CHECKED, bounded_copy_memory, copy_to_parquet
    from earlypath.audit.run import evaluate
    from earlypath.audit.sql_table import sql_name, sql_of

    out.mkdir(parents=True, exist_ok=True)
    ev = evaluate(source)
    assert ev.one_pass is not None
    duck, raw = ev.con.con, sql_name(ev.one_pass.raw)
    columns = ", ".join(_PASSED_THROUGH)
    hand = BASELINE_SQL.format(
        source=sql_text(str(source)), target=sql_text(str(out / "baseline.parquet"))
    )
    steps = {
        "read_and_write": f"SELECT {columns} FROM {raw}",
        "checks": f"SELECT {columns} FROM {sql_name(CHECKED)} WHERE NOT _rejected",
        "audit": sql_of(ev.con, ev.episodes),
        "baseline": None,
    }
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    by_thread: dict[str, list[list[float]]] = {name: [] for name in steps}
    for _ in range(max(1, repeat)):
        for name, sql in steps.items():
            started, threads = _cpu_seconds(), thread_cpu_seconds()
            with bounded_copy_memory(duck):
                if sql is None:
                    duck.execute(hand)
                else:
                    copy_to_parquet(ev.con, sql, out / f"{name}.parquet")
            cpu[name].append(_cpu_seconds() - started)
            now = thread_cpu_seconds()
            spread = sorted((now[t] - threads.get(t, 0.0) for t in now), reverse=True)
            by_thread[name].append([round(x, 3) for x in spread if x > 0])
    medians = {name: statistics.median(times) for name, times in cpu.items()}
    # Each step's CPU by thread (busiest first), in the round whose busiest thread is the median
    threads_of = {
        name: sorted(rounds, key=lambda r: r[0] if r else 0.0)[len(rounds) // 2]
        for name, rounds in by_thread.items()
    }
    # A whole audit ``repeat`` times (its files in the same folder): the run whose idle-machine
    # estimate is the median
    runs = [_whole_audit_by_statement(source, out / "whole") for _ in range(max(1, repeat))]
    whole = sorted(runs, key=lambda r: r["busiest"]["whole"])[len(runs) // 2]
    print(json.dumps({**medians, "by_thread": threads_of, "whole_audit": whole}))


class TimedConnection:
    """A DuckDB connection whose statements are timed, CPU and wall, each added up under its
    first words (no values, which come later in a statement) in ``spent`` and ``waited``.

    DuckDB's ``execute`` may return before a statement has run to the end: the rest of the
    work is done when its rows are fetched (the summary's counts, a ``UNION ALL``: 0.04 s in
    ``execute``, 0.09 s more in ``fetchall`` for 1M episodes). ``execute`` returns this wrapper,
    as DuckDB's returns the connection, so the fetches that follow are timed too and charged to
    the statement they read, not to the Python between the statements."""

    _FETCHES = frozenset(
        ("fetchall", "fetchone", "fetchmany", "fetchnumpy", "fetch_arrow_table", "arrow", "df")
    )

    def __init__(self, con: Any, clock: Any = None, threads: Any = None) -> None:
        self._con = con
        self._cpu = clock or _cpu_seconds
        self._threads = threads or thread_cpu_seconds
        self._last = ""
        self.spent: dict[str, float] = {}
        self.waited: dict[str, float] = {}
        # Each statement's busiest thread (its CPU seconds): what it takes on an idle machine
        # with a core for each of its threads, whatever the load when measured.
        self.busiest: dict[str, float] = {}

    def _start(self) -> tuple[float, float, dict[str, float]]:
        return self._cpu(), time.perf_counter(), self._threads()

    def _charge(self, name: str, started: tuple[float, float, dict[str, float]]) -> None:
        cpu, clock, threads = started
        self.spent[name] = self.spent.get(name, 0.0) + self._cpu() - cpu
        self.waited[name] = self.waited.get(name, 0.0) + time.perf_counter() - clock
        now = self._threads()
        most = max((now[t] - threads.get(t, 0.0) for t in now), default=0.0)
        self.busiest[name] = self.busiest.get(name, 0.0) + most

    def execute(self, sql: str, *args: Any) -> TimedConnection:
        started = self._start()
        self._last = " ".join(sql.split()[:5])[:60]
        try:
            self._con.execute(sql, *args)
        finally:
            self._charge(self._last, started)
        return self

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._con, name)
        if name not in self._FETCHES:
            return found

        def timed_fetch(*args: Any, **kwargs: Any) -> Any:
            started = self._start()
            try:
                return found(*args, **kwargs)
            finally:
                self._charge(self._last, started)

        return timed_fetch


def _whole_audit_by_statement(source: Path, out: Path) -> dict[str, Any]:
    """A whole `run_audit` (its SQL kept by the run before), its CPU split into each statement
    DuckDB ran, its rows' fetching included (`TimedConnection`), and the Python between them;
    under ``wall``, the same in wall time (a statement's threads, and the waits no CPU shows:
    the publish's ``fsync`` calls are in the Python's)."""
    import earlypath.audit.funnel as funnel
    import earlypath.audit.sql_table as sql_table
    from earlypath.audit.run import run_audit

    # each audit works out its funnel limits, as in a process of its own (kept since stop 34)
    getattr(funnel.funnel_limits, "cache_clear", lambda: None)()

    timed: list[TimedConnection] = []
    plain_init = sql_table.PlainDuckDB.__init__

    def timed_init(self: sql_table.PlainDuckDB) -> None:
        plain_init(self)
        self.con = TimedConnection(self.con)
        timed.append(self.con)

    sql_table.PlainDuckDB.__init__ = timed_init  # type: ignore[method-assign]
    try:
        started, clock = _cpu_seconds(), time.perf_counter()
        run_audit(source, out)
        whole, wall = _cpu_seconds() - started, time.perf_counter() - clock
    finally:
        sql_table.PlainDuckDB.__init__ = plain_init  # type: ignore[method-assign]
    spent: dict[str, float] = {}
    waited: dict[str, float] = {}
    busiest: dict[str, float] = {}
    for con in timed:
        for totals, found in ((spent, con.spent), (waited, con.waited), (busiest, con.busiest)):
            for name, seconds in found.items():
                totals[name] = totals.get(name, 0.0) + seconds
    walls = {"whole": wall, "python": wall - sum(waited.values()), **waited}
    python = whole - sum(spent.values())
    # The Python between the statements runs on one thread: on an idle machine it adds up
    busiest = {"whole": python + sum(busiest.values()), "python": python, **busiest}
    return {"whole": whole, "python": python, **spent, "wall": walls, "busiest": busiest}


def _split(source: Path, folder: Path, repeat: int) -> None:
    cmd = [sys.executable, __file__, "--worker", "split", "--input", str(source)]
    cmd += ["--out", str(folder / "split"), "--repeat", str(repeat)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the split run failed:\n{done.stderr[-3000:]}")
    cpu = json.loads(done.stdout.strip().splitlines()[-1])
    by_thread = cpu.pop("by_thread")
    hand = cpu["baseline"]
    parts = {
        "reading the input, writing the columns passed through": cpu["read_and_write"],
        "the checks' filter (and the columns only the checks read)": cpu["checks"]
        - cpu["read_and_write"],
        "the rules, adherence and month, and writing the 8 columns they make": cpu["audit"]
        - cpu["checks"],
    }
    print(f"the audit's COPY, CPU medians of {repeat}: {cpu['audit']:.2f} s; the hand-written")
    print(f"query on the same connection {hand:.2f} s ({cpu['audit'] / hand:.2f}x). In steps:")
    for name, seconds in parts.items():
        print(f"  {name}: {seconds:.2f} s")
    whole = cpu["whole_audit"]
    wall = whole["wall"]
    print(
        f"a whole audit (the median of {repeat} by the estimate below), CPU: {whole['whole']:.2f} s"
    )
    print(f"({wall['whole']:.2f} s wall), of which")
    print(f"Python between the statements {whole['python']:.2f} s ({wall['python']:.2f} s wall);")
    print("the costliest statements (by their first words), CPU and wall:")
    statements = sorted(
        ((k, v) for k, v in whole.items() if k not in ("whole", "python", "wall", "busiest")),
        key=lambda kv: -kv[1],
    )
    busiest = whole["busiest"]
    for name, seconds in statements[:8]:
        print(
            f"  {seconds:.3f} s  {wall[name]:.3f} s  {name} (busiest thread {busiest[name]:.3f} s)"
        )
    # Wall time on an idle 2-core machine, from CPU by thread (steady under load, where the wall
    # is not): a statement takes its busiest thread's time, the Python between them adds up.
    hand_busiest = by_thread["baseline"][0] if by_thread["baseline"] else 0.0
    print("CPU by thread, busiest first (s): the hand-written query", by_thread["baseline"])
    print("  the audit's COPY", by_thread["audit"], "; the checks' step", by_thread["checks"])
    print(
        f"on an idle 2-core machine (each statement its busiest thread's CPU, the Python between "
        f"them added): a whole audit {busiest['whole']:.2f} s, the hand-written query "
        f"{hand_busiest:.2f} s ({busiest['whole'] / hand_busiest:.2f}x)"
        if hand_busiest
        else "(no CPU by thread: /proc/self/task not readable)"
    )
    print(json.dumps({"split_cpu_seconds": cpu, "by_thread": by_thread}))


TINY_COHORT = (
    "episode_id,assessed_on,previous_miscarriages,vaginal_bleeding,lmp,scan_date,scan_location,"
    "fetal_pole,fetal_heartbeat,crl_mm,progesterone_prescribed,site\n"
    "e1,2024-03-04,1,true,2024-01-15,2024-03-04,intrauterine,true,true,9.5,false,A\n"
    "e2,2024-03-04,,true,2024-01-15,,intrauterine,true,true,,true,B\n"
)


def _startup_worker(out: Path, code: Path | None) -> None:
    """A whole DuckDB audit of a 2-row cohort in this fresh process: its CPU time (the
    interpreter's start included) is the audit's fixed cost, what a CLI run pays at least."""
    if code is not None:
        sys.path.insert(0, str(code))
    out.mkdir(parents=True, exist_ok=True)
    source = out / "tiny.csv"
    source.write_text(TINY_COHORT, encoding="utf-8")
    from earlypath.audit.run import run_audit

    run_audit(source, out / "audit")
    print(json.dumps({"startup_cpu_seconds": _cpu_seconds(), "ibis": "ibis" in sys.modules}))


def _startup(out: Path, code: Path | None, repeat: int) -> dict:
    """The tiny audit's CPU (median of ``repeat``), after one run that keeps its SQL."""
    cmd = [sys.executable, __file__, "--worker", "startup", "--out", str(out)]
    cmd += ["--code", str(code)] if code is not None else []
    runs = []
    for _ in range(max(1, repeat) + 1):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"start-up run failed:\n{done.stderr[-3000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    kept = runs[1:]
    cli = [_cli_startup(out, code) for _ in range(max(1, repeat))]
    # The same with the package's compiled bytecode kept: the first run writes it.
    cached = [_cli_startup(out, code, out / "pycache") for _ in range(max(1, repeat) + 1)]
    return {
        "startup_cpu_seconds": statistics.median(r["startup_cpu_seconds"] for r in kept),
        "imports_ibis": any(r["ibis"] for r in kept),
        "cli_startup_cpu_seconds": statistics.median(cli),
        "cli_startup_bytecode_kept_cpu_seconds": statistics.median(cached[1:]),
    }


def _cli_startup(out: Path, code: Path | None, pycache: Path | None = None) -> float:
    """The CPU of the same 2-row audit through the command line (``python -m earlypath audit
    ... --quiet``, its SQL kept by `_startup_worker`'s runs): what a user's ``earlypath audit``
    pays, the CLI's own parsing included.

    With ``pycache``, Python keeps the modules' compiled bytecode there, as it does for an
    installed package (pip compiles it) or any checkout run without PYTHONDONTWRITEBYTECODE;
    without, the environment decides (where PYTHONDONTWRITEBYTECODE is set, as on the shared
    machine, each run compiles the package's modules from source: about 0.1 s of CPU)."""
    root = str(code or HERE.parent)  # ("-m" puts the working folder first on the path)
    env = {**os.environ, "PYTHONPATH": root}
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    cmd = [sys.executable, "-m", "earlypath", "audit", str(out / "tiny.csv")]
    cmd += ["--out", str(out / "cli"), "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, cwd=root)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"the CLI audit failed:\n{done.stderr[-3000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _write_cohort(rows: int, seed: int, path: Path) -> None:
    """The synthetic cohort, written by a child process: a worker's peak RSS (ru_maxrss) starts
    at its parent's, since Linux keeps the forked memory's high-water mark across exec, so this
    process stays small (writing a million rows here put every worker's peak at 280 MB or more
    for 200,000 rows, the hand-written query's included)."""
    cmd = [sys.executable, __file__, "--worker", "synth", "--out", str(path)]
    cmd += ["--rows", str(rows), "--seed", str(seed)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the synthetic cohort failed:\n{done.stderr[-3000:]}")


def _cpu_seconds() -> float:
    """CPU time of this process (every thread, user and system): on a busy shared machine a
    steadier figure than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_cpu_seconds() -> dict[str, float]:
    """CPU seconds of each live thread of this process, by thread id, from /proc (Linux; empty
    elsewhere): user and system time, fields 14 and 15 of ``/proc/self/task/<id>/stat``."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[str, float] = {}
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return found
    for task in tasks:
        try:
            stat = Path(f"/proc/self/task/{task}/stat").read_text()
        except OSError:  # a thread that ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after the name, which may hold spaces
        found[task] = (int(fields[11]) + int(fields[12])) / tick
    return found


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


def _run(engine: str, source: Path, out: Path, code: Path | None = None) -> dict:
    cmd = [sys.executable, __file__, "--worker", engine, "--input", str(source), "--out", str(out)]
    if code is not None:
        cmd += ["--code", str(code)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# The engines whose figure is a ratio to the hand-written query: run in rounds, one each, in turn.
PAIRED = ("duckdb", "baseline", "before")


def _one_run(engine: str, source: Path, folder: Path, before: Path | None) -> dict:
    if engine == "before":
        r = _run("duckdb", source, folder / "out-before", before)
        r["engine"] = "before"
        return r
    return _run(engine, source, folder / f"out-{engine}")


def paired_rounds(
    engines: list[str], source: Path, folder: Path, before: Path | None, repeat: int
) -> list[dict[str, dict]]:
    """``repeat`` rounds of one fresh process per engine; each round starts one engine later
    than the one before, so no engine always runs first (or right after the synthetic write)."""
    rounds = []
    for i in range(max(1, repeat)):
        shift = i % len(engines)
        order = engines[shift:] + engines[:shift]
        rounds.append({engine: _one_run(engine, source, folder, before) for engine in order})
    return rounds


def medians(runs: list[dict]) -> dict:
    """One run's figures, each number the median over ``runs``."""
    merged = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, float):
            merged[key] = statistics.median(r[key] for r in runs)
    return merged


def round_ratios(rounds: list[dict[str, dict]], engine: str) -> dict[str, list[float]]:
    """Each round's ``engine`` divided by the same round's hand-written query (wall, CPU)."""
    return {
        "wall": [r[engine]["seconds"] / r["baseline"]["seconds"] for r in rounds],
        "cpu": [r[engine]["cpu_seconds"] / r["baseline"]["cpu_seconds"] for r in rounds],
    }


def _ratio_text(ratios: list[float]) -> str:
    """The median of the per-round ratios and their range."""
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}x"
    return f"{statistics.median(ratios):.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", default="python,duckdb,spark")
    parser.add_argument("--python-sample", type=int, default=0, help="0: the whole cohort")
    parser.add_argument(
        "--baseline-only",
        action="store_true",
        help="only DuckDB and the hand-written DuckDB query (the issue-16 ratio)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of earlypath before a change (e.g. the main branch): its DuckDB audit "
        "is timed in the same run, as 'before'",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="rounds of the DuckDB audit and the hand-written query (and --before), one each, "
        "in turn; the ratio is the median of the rounds' ratios (the python reference and "
        "Spark run once)",
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="only the audit's COPY in steps (read and write, + the checks, + the rules) and "
        "the hand-written query, on one connection: what each part of the per-row work costs",
    )
    parser.add_argument("--worker")
    parser.add_argument("--input", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--code", type=Path)
    args = parser.parse_args()
    if args.worker == "startup":
        _startup_worker(args.out, args.code)
        return
    if args.worker == "synth":
        from earlypath.synth import write_cohort

        write_cohort(args.rows, args.seed, "parquet", args.out)
        return
    if args.worker == "split":
        _split_worker(args.input, args.out, args.repeat)
        return
    if args.worker:
        _worker(args.worker, args.input, args.out, args.code)
        return

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if args.baseline_only:
        engines = ["duckdb"]
    if "duckdb" in engines:
        engines.append("baseline")  # the same-run yardstick for DuckDB
        if args.before:
            engines.append("before")
    with tempfile.TemporaryDirectory(prefix="earlypath-bench-") as tmp:
        folder = Path(tmp)
        cohort = folder / "cohort.parquet"
        started = time.perf_counter()
        _write_cohort(args.rows, args.seed, cohort)
        print(f"synth: {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        if args.split:
            _split(cohort, folder, args.repeat)
            return
        results = {}
        # The python reference and Spark once each; the DuckDB audit, the hand-written query
        # (and --before) in interleaved rounds, so each ratio is taken within one round.
        single = [e for e in engines if e not in PAIRED]
        paired = [e for e in engines if e in PAIRED]
        for engine in single:
            source = cohort
            if engine == "python" and 0 < args.python_sample < args.rows:
                source = folder / "sample.parquet"
                _write_cohort(args.python_sample, args.seed, source)
            results[engine] = _one_run(engine, source, folder, None)
        rounds = paired_rounds(paired, cohort, folder, args.before, args.repeat) if paired else []
        for engine in paired:
            results[engine] = medians([r[engine] for r in rounds])
            if engine != "baseline" and "baseline" in paired:
                results[engine]["round_ratios"] = round_ratios(rounds, engine)
        for engine in engines:
            r = results[engine]
            r["episodes_per_second"] = r["rows_in"] / r["seconds"]
            if r["rows_in"] < args.rows:
                r["extrapolated_seconds"] = args.rows / r["episodes_per_second"]
            if engine in ("duckdb", "before"):
                code = args.before if engine == "before" else None
                # (a fixed cost, steady enough: at most 3 runs, to keep make bench short)
                r.update(_startup(folder / f"startup-{engine}", code, min(args.repeat, 3)))
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
                + f"; start-up {r['warm_up_seconds']:.2f} s"
                + (
                    f"; a 2-row audit in a fresh process {r['startup_cpu_seconds']:.2f} s CPU"
                    + (" (imports ibis)" if r["imports_ibis"] else " (no ibis)")
                    + f", through the CLI {r['cli_startup_cpu_seconds']:.2f} s CPU"
                    + f" ({r['cli_startup_bytecode_kept_cpu_seconds']:.2f} s, bytecode kept)"
                    if "startup_cpu_seconds" in r
                    else ""
                )
                + extra
            )
        if "duckdb" in results and "baseline" in results:
            audit, hand = results["duckdb"], results["baseline"]
            ratios = audit["round_ratios"]
            whole_audit = audit["seconds"] + audit["warm_up_seconds"]
            whole_hand = hand["seconds"] + hand["warm_up_seconds"]
            print(
                f"duckdb audit / hand-written DuckDB query, median of {len(ratios['wall'])} "
                f"rounds: {_ratio_text(ratios['wall'])} (goal <= 1.25x); CPU "
                f"{_ratio_text(ratios['cpu'])}; median times {audit['seconds']:.2f} s / "
                f"{hand['seconds']:.2f} s, with start-up {whole_audit:.2f} s / "
                f"{whole_hand:.2f} s, CPU {audit['cpu_seconds']:.2f} s / "
                f"{hand['cpu_seconds']:.2f} s; "
                f"peak RSS {audit['peak_rss_mb']:,.0f} MB / {hand['peak_rss_mb']:,.0f} MB"
            )
        if "before" in results and "baseline" in results:
            was, hand = results["before"], results["baseline"]
            ratios = was["round_ratios"]
            print(
                f"before ({args.before}): duckdb audit / hand-written DuckDB query, median of "
                f"{len(ratios['wall'])} rounds: {_ratio_text(ratios['wall'])}; CPU "
                f"{_ratio_text(ratios['cpu'])}; median times {was['seconds']:.2f} s / "
                f"{hand['seconds']:.2f} s; start-up {was['warm_up_seconds']:.2f} s; "
                f"peak RSS {was['peak_rss_mb']:,.0f} MB"
            )
        if "python" in results:
            base = results["python"]["episodes_per_second"]
            for engine, r in results.items():
                if engine not in ("python", "baseline", "before"):
                    print(f"{engine} / python = {r['episodes_per_second'] / base:,.0f}x")
        print(json.dumps({"rows": args.rows, "cpus": os.cpu_count(), "results": results}))


if __name__ == "__main__":
    main()
