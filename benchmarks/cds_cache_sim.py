"""Where a CDS call's cycles go that its instructions do not account for: valgrind's callgrind
simulating the caches and the branch predictor over the counted calls only.

Run: .venv/bin/python benchmarks/cds_cache_sim.py [--calls 20] [--l2] [--native-dir DIR]
                                                  [--checkout CHECKOUT]

For the whole call (through the ASGI app, as `bench_cds_call.py` makes it) and for the record
reading alone, each with the compiled reading (`EARLYPATH_NATIVE_DIR`, stop 38) and with it off
(`EARLYPATH_NATIVE=off`): one process each, instrumentation off through start-up and 100
warm-up calls (so it takes a minute or two, not the ten of a whole simulated process), then on
for 30 calls that fill the simulated caches, then counted over ``--calls``. A small C extension,
compiled here with gcc against valgrind's `callgrind.h`, switches instrumentation and counting
on from Python (outside valgrind its requests do nothing). Per call: instructions (Ir), L1
instruction and data misses (I1mr, D1mr, D1mw), last-level misses (ILmr, DLmr, DLmw), branches
and mispredictions (Bc/Bcm conditional, Bi/Bim indirect). The simulated last level is the
machine's L3 unless ``--l2``: then it is a 1 MB 16-way cache, the L2 of this machine's cores
(stop 39: the compiled reading's code stays in L2 in a loop of readings, not in a whole call).
A model, not the CPU (no micro-op cache, no prefetch): read its differences, and check them
against CPU time (`bench_cds_call.py`). Needs the Debian package `valgrind` and gcc.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# the switch: instrumentation on, counting toggled (valgrind's client requests)
CONTROL_C = """
#include <Python.h>
#include <valgrind/callgrind.h>
static PyObject *start(PyObject *s, PyObject *a) { CALLGRIND_START_INSTRUMENTATION; Py_RETURN_NONE; }
static PyObject *toggle(PyObject *s, PyObject *a) { CALLGRIND_TOGGLE_COLLECT; Py_RETURN_NONE; }
static PyMethodDef methods[] = {
    {"start", start, METH_NOARGS, 0}, {"toggle", toggle, METH_NOARGS, 0}, {0}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "callgrind_switch", 0, -1, methods};
PyMODINIT_FUNC PyInit_callgrind_switch(void) { return PyModule_Create(&module); }
"""

# One process: the checkout first on the path, the switch's folder second; argv: calls, which.
CALLER = """
import asyncio, datetime as dt, gc, json, sys, tempfile
sys.path.insert(0, "benchmarks")
import callgrind_switch
from bench_cds_load import SERVICE, request_body
calls, which = int(sys.argv[1]), sys.argv[2]
today = dt.date(2026, 12, 1)
body = request_body(today, 0)
if which == "call":
    from bench_cds_call import asgi_caller
    from earlypath.web.app import create_app
    from earlypath.web.config import Settings
    db = f"sqlite:///{tempfile.mkdtemp()}/fb.sqlite3"
    app = create_app(Settings(auth=False, feedback_db=db), today=lambda: today)
    call = asgi_caller(app, SERVICE, "POST", json.dumps(body).encode())
    loop = asyncio.new_event_loop()
    one = lambda: loop.run_until_complete(call())
else:
    from earlypath.fhir import mapping
    from earlypath.fhir.mapping import flatten
    from earlypath.records import python as records
    resources = flatten(list(body["prefetch"].values()))
    one = lambda: records.read(mapping.READING, resources, today)
for _ in range(100):
    one()
gc.collect()
gc.disable()  # a collection falls in one run's counted calls, not the other's
callgrind_switch.start()
for _ in range(30):
    one()
callgrind_switch.toggle()
for _ in range(calls):
    one()
callgrind_switch.toggle()
"""

L2 = "1048576,16,64"


def build_switch(folder: Path) -> Path:
    """The switch compiled into ``folder`` (a second, no more)."""
    source = folder / "callgrind_switch.c"
    source.write_text(CONTROL_C)
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    built = folder / f"callgrind_switch{suffix}"
    include = sysconfig.get_paths()["include"]
    subprocess.run(
        ["gcc", "-O2", "-shared", "-fPIC", f"-I{include}", str(source), "-o", str(built)],
        check=True,
    )
    return built


def environment(checkout: Path, switch: Path, native_dir: Path | None, native: bool) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": f"{checkout}{os.pathsep}{switch.parent}",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("EARLYPATH_NATIVE", None)
    if native_dir is not None:
        env["EARLYPATH_NATIVE_DIR"] = str(native_dir)
    if not native:
        env["EARLYPATH_NATIVE"] = "off"
    return env


def simulate(
    checkout: Path, switch: Path, which: str, calls: int, env: dict, l2: bool
) -> dict[str, int]:
    """Each simulated event per call, over ``calls`` calls of ``which`` (call or reading)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--collect-atstart=no",
            "--cache-sim=yes",
            "--branch-sim=yes",
            *([f"--LL={L2}"] if l2 else []),
            f"--callgrind-out-file={out}",
            sys.executable,
            "-c",
            CALLER,
            str(calls),
            which,
        ]
        done = subprocess.run(command, env=env, cwd=checkout, capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            raise SystemExit(f"{which}: callgrind gave no counts: {done.stderr[-800:]}")
        return per_call(out.read_text(), calls)


def per_call(text: str, calls: int) -> dict[str, int]:
    """callgrind's totals (its `events:` and `summary:` lines) divided by ``calls``."""
    events: list[str] = []
    totals: list[int] = []
    for line in text.splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith(("summary:", "totals:")):
            totals = [int(value) for value in line.split()[1:]]
    if not events or not totals:
        raise SystemExit("callgrind's output has no events or totals")
    return {event: round(total / calls) for event, total in zip(events, totals, strict=False)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--checkout", type=Path, default=ROOT)
    parser.add_argument("--native-dir", type=Path, help="the builds (EARLYPATH_NATIVE_DIR)")
    parser.add_argument("--l2", action="store_true", help="simulate a 1 MB L2 as the last level")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    report: dict[str, object] = {"calls": args.calls, "last_level": L2 if args.l2 else "L3"}
    with tempfile.TemporaryDirectory() as tmp:
        switch = build_switch(Path(tmp))
        for which in ("reading", "call"):
            for native in (False, True):
                env = environment(checkout, switch, args.native_dir, native)
                name = f"{which}, compiled reading {'on' if native else 'off'}"
                report[name] = simulate(checkout, switch, which, args.calls, env, args.l2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
