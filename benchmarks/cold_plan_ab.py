"""The CPU of one cold plan of the reading (`READING`, test_absent_types' one-woman export),
with the plan folder off: `run_records` compiles every statement, stores its tables and reads
the rows. Prints the CPU seconds, an md5 of the plan's statements and one of its episodes and
problems rows, so two trees (a base from ``git archive``, this one) compare in one session:

    for i in 1 2; do for t in /tmp/base $PWD; do
      .venv/bin/python benchmarks/cold_plan_ab.py $t; done; done

The statements' text is not the same in every process (two column orders of one statement
occur, in the base as well): compare the set of md5s, and the rows' md5.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = str(Path(__file__).resolve().parent.parent)


def main(tree: str) -> None:
    sys.path.insert(0, tree)
    sys.path.insert(1, HERE)  # (this tree's tests build the export)
    os.environ["EARLYPATH_PLAN_CACHE"] = "off"
    import ibis

    import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)

    assert earlypath.fhir.__file__.startswith(tree), earlypath.fhir.__file__
    from earlypath.records import ibis_compile
    from earlypath.records.definition import READING
    from tests.integration.fhir_data import PATIENT_ID, day
    from tests.records.test_absent_types import _export

    files = _export(Path(tempfile.mkdtemp()) / "export")
    con = ibis.duckdb.connect()
    loaded = ibis_compile.load_resources(con, files, READING, "a_r")
    con.raw_sql(
        "CREATE OR REPLACE TABLE a_keys AS SELECT 0::BIGINT AS _key, 'enc-1' AS encounter, "
        f"'{PATIENT_ID}' AS patient, DATE '{day()}' AS assessed_on"
    )
    start = time.process_time()
    out = ibis_compile.run_records(con, READING, loaded, "a_keys", "a_k")
    cpu = time.process_time() - start
    plan = next(iter(ibis_compile._PLANS.values()))
    rows = [out.episodes.to_pyarrow().to_pylist(), out.problems.to_pyarrow().to_pylist()]
    statements = hashlib.md5(json.dumps(plan.statements).encode()).hexdigest()
    read = hashlib.md5(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()
    print(f"{tree}: CPU {cpu:.2f} s; statements md5 {statements}; rows md5 {read}")


if __name__ == "__main__":
    main(str(Path(sys.argv[1]).resolve()))
