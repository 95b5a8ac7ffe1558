"""One Spark audit of a flat cohort in a fresh process, for an A/B of session settings (stop 51).

Starts the tests' local session (`tests.conftest_spark`: the audit's `spark_local_settings` with
2g of heap) plus any ``SPARK_EXTRA`` ``key=value;key=value``, judges a synthetic Parquet cohort
(``ROWS`` rows, 2,000 by default; as `tests/generative/test_engines_agree.py`'s Spark test reads
its cohorts) and prints the driver JVM's CPU seconds and a digest of what was decided. The JVM is
waited for before the process ends, so a whole-process timer (``/usr/bin/time -v``) counts its
CPU as the process's children's. Pair two settings in turn, A B A B:

    PYTHONPATH=. SPARK_EXTRA="spark.sql.lightweightPlanChangeValidation=false" \\
      /usr/bin/time -v .venv/bin/python benchmarks/spark_settings_ab.py
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from spark_shared import jvm_cpu, local_session


def main() -> None:
    from earlypath.synth.cohort import write_cohort
    from tests.audit.helpers import results

    extra = dict(
        item.split("=", 1) for item in os.environ.get("SPARK_EXTRA", "").split(";") if item
    )
    folder = Path(tempfile.mkdtemp(prefix="settings-ab-"))
    path = write_cohort(int(os.environ.get("ROWS", "2000")), 7, "parquet", folder / "c.parquet")
    spark = local_session("2g", "earlypath-settings-ab", extra)
    started = jvm_cpu(spark)
    episodes, rejects = results(path, "spark", spark)
    used = jvm_cpu(spark) - started
    digest = hashlib.md5(
        json.dumps([sorted(episodes.items()), sorted(rejects.items())], default=str).encode()
    ).hexdigest()
    print(f"extra {extra} episodes {len(episodes)} rejects {len(rejects)} md5 {digest}")
    print(f"JVM CPU of the audit {used:.2f} s, of the JVM {jvm_cpu(spark):.2f} s")
    proc = spark.sparkContext._gateway.proc
    spark.stop()
    spark.sparkContext._gateway.shutdown()
    if proc is not None:  # the JVM leaves when its stdin closes; waited for, it is counted
        proc.stdin.close()
        proc.wait()


if __name__ == "__main__":
    main()
