"""Instructions per part of the CDS patient-view call, counted by valgrind: where the whole
call's instructions go, part by part, beside the hello-world route (a split the load does not
move, where `bench_cds_call.py --split` times each part on a shared machine).

Run: .venv/bin/python benchmarks/cds_parts_instructions.py [--before CHECKOUT ...]
                                                          [--calls 200] [--parts call,hello,...]

Each part is called ``--calls`` times in a process under `valgrind --tool=cachegrind
--cache-sim=no` after the same start-up (the app built, 50 whole calls, every part's input made
once); the process that calls no part is the baseline, and a part's figure is the difference
over ``--calls`` (a fixed hash seed, so the layouts are alike). The parts are nested, not a
sum: ``call`` is the whole ASGI app (`bench_cds_call.asgi_caller`); ``service`` enters at
`cds.ServiceCalls` (the innermost middleware) with the body `RequestLimits` would hand on;
``answer`` is `cds.answer_call` alone; then what it calls, each alone with the call's own
input (the patient-view answer's own: `cards_assessment`, the kept card's `cards_response`;
`assess_for_cards` and `decision_card` are what a card not kept costs). The middlewares' share is ``call`` less ``service``. Not named bench_*: `make bench`
does not run it (it needs valgrind and a minute a part).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import valgrind_count  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

PARTS = (
    "call",
    "hello",
    "service",
    "answer",
    "limits_parse",
    "parse_json",
    "check_request",
    "gather",
    "map_resources",
    "has_pregnancy_context",
    "merged_record",
    "cards_assessment",
    "cards_response",
    "assess_for_cards",
    "unchecked_reason",
    "decision_card",
    "response",
    "response_send",
)

# One process: the app built and warmed, every part's input made from one call, then N calls of
# one part (or none). Parts a checkout lacks raise NameError and are reported as absent.
_CALLER = """
import asyncio, datetime as dt, json, sys, tempfile
sys.path.insert(0, {bench!r})
from bench_cds_call import _scope, asgi_caller, hello_app
from bench_cds_load import SERVICE, request_body
from earlypath.web import cds, limits
from earlypath.web.app import create_app
from earlypath.web.config import Settings
from starlette.requests import Request
n, which = int(sys.argv[1]), sys.argv[2]
today = dt.date(2026, 12, 1)
raw = json.dumps(request_body(today, 0)).encode()
loop = asyncio.new_event_loop()
tmp = tempfile.mkdtemp()
settings = Settings(auth=False, feedback_db=f"sqlite:///{{tmp}}/fb.sqlite3")
app = create_app(settings, today=lambda: today)
call = asgi_caller(app, SERVICE, "POST", raw)
hello = asgi_caller(hello_app(), "/hello", "POST", b"")
for _ in range(50):
    loop.run_until_complete(call())
    loop.run_until_complete(hello())
service_calls = app.cds_lane
while not isinstance(service_calls, cds.ServiceCalls):
    service_calls = service_calls.app
_, parsed = limits._nesting(raw, settings.max_json_depth)
scope = {{**_scope(SERVICE, "POST", raw), limits.PARSED_BODY: parsed, "app": app}}
service = cds.SERVICES["ng126-progesterone"]
body = cds.parse_json(raw, parsed)


async def received():
    return {{"type": "http.request", "body": raw, "more_body": False}}


async def sent(message):
    pass


request = Request(scope, received, sent)
resources = loop.run_until_complete(cds.gather(cds.PREFETCH, cds.REQUIRED, body, None, []))
mapped = cds.map_resources(resources, today)
assessment = cds.assess_for_cards(mapped.episode, app.state.policy)
cards = [cds.decision_card(assessment, "p", mapped.problems, mapped.evidence)]
read = cds.cards_assessment(mapped.episode, app.state.policy)
answer = cds.CdsJSONResponse({{"cards": cards}})
parts = {{
    "none": lambda: None,
    "call": lambda: loop.run_until_complete(call()),
    "hello": lambda: loop.run_until_complete(hello()),
    "service": lambda: loop.run_until_complete(service_calls(dict(scope), received, sent)),
    "answer": lambda: loop.run_until_complete(cds.answer_call(service, request, raw)),
    "limits_parse": lambda: limits._nesting(raw, settings.max_json_depth),
    "parse_json": lambda: cds.parse_json(raw, parsed),
    "check_request": lambda: cds._check_request(body, service),
    "gather": lambda: loop.run_until_complete(
        cds.gather(cds.PREFETCH, cds.REQUIRED, body, None, [])
    ),
    "map_resources": lambda: cds.map_resources(resources, today),
    "has_pregnancy_context": lambda: cds.has_pregnancy_context(mapped),
    "merged_record": lambda: cds.merged_record(resources, body["context"]["patientId"]),
    "cards_assessment": lambda: cds.cards_assessment(mapped.episode, app.state.policy),
    "cards_response": lambda: cds.cards_response(read, "p", mapped.problems, mapped.evidence),
    "assess_for_cards": lambda: cds.assess_for_cards(mapped.episode, app.state.policy),
    "unchecked_reason": lambda: cds.unchecked_reason([], resources),
    "decision_card": lambda: cds.decision_card(assessment, "p", mapped.problems, mapped.evidence),
    "response": lambda: cds.CdsJSONResponse({{"cards": cards}}),
    "response_send": lambda: loop.run_until_complete(answer(scope, received, sent)),
}}
for part in [parts[name] for name in which.split(",")]:  # one part (a test: several)
    for _ in range(n):
        part()
"""


def instructions(checkout: Path, which: str, calls: int) -> int:
    """Instructions valgrind counts for the whole process calling ``which`` ``calls`` times."""
    code = _CALLER.format(bench=str(checkout / "benchmarks"))
    return valgrind_count.instructions(checkout, code, str(calls), which, label=which)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, action="append", default=[], help="a checkout")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument(
        "--parts", default=",".join(PARTS), help="comma-separated, of: " + ", ".join(PARTS)
    )
    args = parser.parse_args()
    valgrind_count.require_valgrind()
    chosen = [p for p in args.parts.split(",") if p]
    unknown = set(chosen) - set(PARTS)
    if unknown:
        raise SystemExit(f"--parts: unknown {sorted(unknown)}; choose from {', '.join(PARTS)}")
    report: dict[str, object] = {"calls": args.calls}
    for checkout in [*args.before, ROOT]:
        path = checkout.resolve()
        base = instructions(path, "none", args.calls)
        counts = {p: round((instructions(path, p, args.calls) - base) / args.calls) for p in chosen}
        report[str(path)] = counts
        print(json.dumps({str(path): counts}), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
