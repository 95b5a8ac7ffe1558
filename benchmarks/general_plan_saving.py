"""What the specialised reading plan saves against the general one at a size (stop 47,
w-general47): the CPU of the FHIR audit's reading (`flatten_fhir_duckdb`) of an N-patient
synthetic export with ``EARLYPATH_SPECIALISE_FROM_BYTES=0`` (the plan specialised to the export:
its absent types left out, no version ranked) and with a setting above the export (the general
plan), alternated in one process, the plans warm (each compiled or loaded in a first round that
is not counted). CPU of this process (DuckDB's threads included), so a loaded machine changes
little. The figures behind `plan_choice.DEFAULT_FROM_BYTES`:

    EARLYPATH_PLAN_CACHE=/tmp/plans PYTHONPATH=. .venv/bin/python \
      benchmarks/general_plan_saving.py 2000 3
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
from pathlib import Path

from earlypath.audit.fhir_read import flatten_fhir_duckdb
from earlypath.audit.load import duckdb_connect
from earlypath.records.plan_choice import SETTING, input_bytes
from earlypath.synth.cohort import generate_chunks
from earlypath.synth.fhir_export import write_fhir

_SPECIALISED, _GENERAL = "0", str(10**12)


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _reading_cpu(folder: Path, setting: str, name: str) -> float:
    os.environ[SETTING] = setting
    con = duckdb_connect()
    start = _cpu()
    flatten_fhir_duckdb(con, folder, name)
    took = _cpu() - start
    con.disconnect()
    return took


def main() -> None:
    patients = int(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    folder = Path(tempfile.mkdtemp(prefix=f"general-plan-{patients}-"))
    write_fhir(generate_chunks(patients, seed=3), folder)
    print("patients", patients, "input bytes", input_bytes(folder.glob("*.ndjson")))
    for setting in (_SPECIALISED, _GENERAL):
        _reading_cpu(folder, setting, "warm")
    took: dict[str, list[float]] = {_SPECIALISED: [], _GENERAL: []}
    for i in range(rounds):
        for setting in (_SPECIALISED, _GENERAL):
            took[setting].append(_reading_cpu(folder, setting, f"r{i}"))
    for setting, label in ((_SPECIALISED, "specialised"), (_GENERAL, "general")):
        print(label, [round(t, 2) for t in took[setting]], "min", round(min(took[setting]), 2))
    print("saving, CPU s:", round(min(took[_GENERAL]) - min(took[_SPECIALISED]), 2))


if __name__ == "__main__":
    main()
