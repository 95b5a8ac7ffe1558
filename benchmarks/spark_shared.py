"""What the Spark benchmarks share (stop 52): the driver JVM's CPU seconds, read from /proc
(Linux; `spark_settings_ab.py`, `spark_statement_phases.py`, `spark_load_calls.py`,
`spark_fixture_phases.py`, `spark_serial_path.py`, `bench_spark.py`), a local session with the
audit's settings (`spark_settings_ab.py`, `spark_reading_plans.py`) and the one export of the
Spark reading agreement test (`spark_statement_phases.py`, `spark_reading_plans.py`).

A script run from `benchmarks/` imports it as ``from spark_shared import jvm_cpu`` (its folder
is first on the path); a pytest plugin, with ``PYTHONPATH=.:benchmarks``. Nothing is imported
here beyond the standard library until a function needs it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")


def stat_cpu(stat: str) -> float:
    """User + system CPU seconds from the text of a ``/proc/<pid>/stat`` (or a thread's)."""
    # the fields after the command's name, which is in brackets and may hold spaces and ")":
    # utime and stime are the 14th and 15th of the whole line
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_busy(stat: str | None = None) -> float:
    """CPU seconds every processor of the machine has been busy since boot (the first line of
    ``/proc/stat``, or ``stat``: all but idle and iowait), every process's. The difference over
    a run less the run's own CPU is what other processes took while it ran."""
    if stat is None:
        with open("/proc/stat", encoding="ascii") as file:
            stat = file.readline()
    fields = [int(f) for f in stat.split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # (guest time is counted in user time already: only the first 8 fields are summed)
    return (sum(fields[:8]) - idle) / _TICK


def process_cpu(pid: int) -> float:
    """The process's CPU seconds so far, every thread's, the finished ones' too."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat_cpu(stat.read())


def jvm_pid(session: Any) -> int:
    """The driver JVM's process id: the process PySpark started for the session (asked of
    Python's side, so no call into the JVM, which a script counting py4j calls would count),
    else, for a gateway it did not start, asked of the JVM."""
    proc = getattr(session.sparkContext._gateway, "proc", None)
    if proc is not None:
        return int(proc.pid)
    return int(session._jvm.java.lang.ProcessHandle.current().pid())


def jvm_cpu(session: Any) -> float:
    """The driver JVM's CPU seconds so far (utime + stime)."""
    return process_cpu(jvm_pid(session))


def local_session(memory: str, app: str, extra: dict[str, str] | None = None) -> Any:
    """A ``local[2]`` session with the audit's local settings (`spark_local_settings`),
    ``memory`` of driver heap and any ``extra`` settings; Spark's log at errors only."""
    from pyspark.sql import SparkSession

    from earlypath.audit.load import spark_local_settings

    settings = {**spark_local_settings("local[2]"), "spark.driver.memory": memory, **(extra or {})}
    builder = SparkSession.builder.master("local[2]").appName(app)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def reading_export(root: Path, scenarios: list[str] | None = None) -> dict[str, list[Any]]:
    """The one export of `tests/audit/test_spark_reading_agreement.py`'s `read` fixture: the 60
    synthetic women (written under ``root`` and read back) and every READ scenario, each
    namespaced; only ``scenarios`` (``synthetic`` for the women) when given."""
    import tests.audit.test_spark_reading_agreement as agreement
    from earlypath.synth.cohort import generate_chunks
    from earlypath.synth.fhir_export import write_fhir
    from tests.fhir_exports import namespaced

    wanted = [agreement.SYNTHETIC, *agreement.READ] if scenarios is None else scenarios
    exports: dict[str, dict[str, list[Any]]] = {}
    if agreement.SYNTHETIC in wanted:
        write_fhir(generate_chunks(60, seed=5), root / agreement.SYNTHETIC)
        back = agreement._read_back(root / agreement.SYNTHETIC)
        exports[agreement.SYNTHETIC] = {Path(n).stem: r for n, r in back.items()}
    exports |= {n: export(root) for n, (export, _) in agreement.READ.items() if n in wanted}
    whole: dict[str, list[Any]] = {}
    for name, export in exports.items():
        for kind, resources in export.items():
            whole.setdefault(kind, []).extend(namespaced(resources, agreement._space(name)))
    return whole
