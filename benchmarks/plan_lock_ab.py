"""Two processes wanting one plan cold at once (two test workers, two audits started together):
the CPU both spend, with or without the plan folder's lock (stop 48, w-plans48).

Each process reads a one-MedicationRequest export (its specialised plan: a few seconds cold, the
mechanism is the same for a full reading's ~30 s) into one shared empty plan folder; both start
together. Run from a tree (PYTHONPATH names it), the same venv for both trees:

    PYTHONPATH=<tree> .venv/bin/python benchmarks/plan_lock_ab.py

It prints each process's user+sys CPU seconds and whether it compiled (C) or read the kept plan.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import os, sys, time
from pathlib import Path
import ibis
import earlypath.fhir  # noqa: F401
from earlypath.records import ibis_compile
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import load_resources, run_records
folder = sys.argv[1]
con = ibis.duckdb.connect()
con.raw_sql("CREATE TABLE keys AS SELECT 0::BIGINT AS _key, 'enc-1' AS encounter, "
            "'p1' AS patient, DATE '2019-05-10' AS assessed_on")
resources = load_resources(con, {"MedicationRequest": [Path(folder) / "m.ndjson"]},
                           READING, "r")
compiled = []
real = ibis_compile._record_plan
def counted(*a, **k):
    compiled.append(1)
    return real(*a, **k)
ibis_compile._record_plan = counted
open(sys.argv[2] + "." + sys.argv[3], "w").close()
while not os.path.exists(sys.argv[2]):  # (both start their reading together)
    time.sleep(0.05)
run_records(con, READING, resources, "keys", "k")
print("C" if compiled else "kept")
"""


def main() -> None:
    work = Path(tempfile.mkdtemp())
    line = {
        "resourceType": "MedicationRequest",
        "id": "r1",
        "status": "completed",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2019-05-02",
        "medicationCodeableConcept": {"text": "Methotrexate"},
    }
    (work / "m.ndjson").write_text(json.dumps(line) + "\n", encoding="utf-8")
    go = work / "go"
    env = {
        **os.environ,
        "EARLYPATH_PLAN_CACHE": tempfile.mkdtemp(),
        "EARLYPATH_SPECIALISE_FROM_BYTES": "0",
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(work), str(go), str(i)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    while not all((work / f"go.{i}").exists() for i in range(2)):
        time.sleep(0.05)
    go.touch()
    said = [c.communicate()[0].strip() for c in children]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"two processes: {cpu:.2f} CPU s in all; {said}")


if __name__ == "__main__":
    main()
