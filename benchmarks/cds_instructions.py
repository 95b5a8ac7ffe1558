"""Instructions per CDS patient-view call, counted by valgrind: a figure the machine's load does
not move (CPU times on a shared 2-core machine move by +-20% from run to run, more than most
changes to the call).

Run: .venv/bin/python benchmarks/cds_instructions.py [--before CHECKOUT] [--calls 500]
     [--extra-observations N] [--instants]

Each figure is the difference of two runs under `valgrind --tool=cachegrind --cache-sim=no`
(the same start-up and warm-up, then 100 or 100 + ``--calls`` calls through the whole ASGI app,
as `bench_cds_call.py` makes them) over the difference in calls: start-up and imports cancel
out. The hello-world FastAPI route is counted the same way as the baseline. Not named bench_*:
`make bench` does not run it (it needs valgrind and minutes). Each run takes a
minute or more (valgrind is ~50x slower); needs the Debian package `valgrind`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import valgrind_count  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WARM = 100

# One process's calls: CHECKOUT on the path, N calls of the CDS service or of hello-world.
_CALLER = """
import asyncio, datetime as dt, json, sys, tempfile
sys.path.insert(0, {bench!r})
from bench_cds_call import asgi_caller, hello_app
from bench_cds_load import SERVICE, request_body
from earlypath.web.app import create_app
from earlypath.web.config import Settings
n, which, extra, instants = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
today = dt.date(2026, 12, 1)
record = request_body(today, extra, instants=True) if instants else request_body(today, extra)
body = json.dumps(record).encode()
with tempfile.TemporaryDirectory() as tmp:
    if which == "cds":
        settings = Settings(auth=False, feedback_db=f"sqlite:///{{tmp}}/fb.sqlite3")
        app = create_app(settings, today=lambda: today)
        call = asgi_caller(app, SERVICE, "POST", body)
    else:
        call = asgi_caller(hello_app(), "/hello", "POST", b"")
    loop = asyncio.new_event_loop()
    for _ in range(50 + n):
        loop.run_until_complete(call())
"""


def instructions(
    checkout: Path, which: str, calls: int, extra: int = 0, instants: bool = False
) -> int:
    """Instructions valgrind counts for the whole process making ``calls`` calls (with
    ``extra`` Observations the reading leaves out in the record, `request_body`; ``instants``:
    its dates written as timestamps, which needs a checkout whose benchmarks write them)."""
    # the checkout's own benchmarks: bench_cds_call.py puts its checkout first on the path
    code = _CALLER.format(bench=str(checkout / "benchmarks"))
    args = (str(calls), which, str(extra), "1" if instants else "0")
    return valgrind_count.instructions(checkout, code, *args, label=which)


def per_call(checkout: Path, which: str, calls: int, extra: int = 0, instants: bool = False) -> int:
    more = instructions(checkout, which, WARM + calls, extra, instants)
    return round((more - instructions(checkout, which, WARM, extra, instants)) / calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--before", type=Path, help="another checkout, counted the same way")
    parser.add_argument(
        "--extra-observations",
        type=int,
        default=0,
        help="a second record shape: N more Observations the reading leaves out",
    )
    parser.add_argument(
        "--instants",
        action="store_true",
        help="the record's dates as timestamps with zones, as EHRs send them (both checkouts'"
        " benchmarks must write them: bench_cds_load.request_body's `instants`)",
    )
    args = parser.parse_args()
    valgrind_count.require_valgrind()
    hello = per_call(ROOT, "hello", args.calls)
    report: dict[str, object] = {
        "calls": args.calls,
        "extra_observations": args.extra_observations,
        "instants": args.instants,
        "hello_world_instructions": hello,
    }
    checkouts = [("before", args.before)] if args.before else []
    for name, checkout in [*checkouts, ("after" if args.before else "this", ROOT)]:
        count = per_call(
            checkout.resolve(), "cds", args.calls, args.extra_observations, args.instants
        )
        report[f"cds_call_instructions_{name}"] = count
        report[f"ratio_{name}_to_hello_world"] = round(count / hello, 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
