"""One CDS patient-view call in-process: CPU per call through the whole ASGI app, by part.

Run: .venv/bin/python benchmarks/bench_cds_call.py [--calls 3000] [--profile N] [--split]
                                                  [--tail] [--layers] [--extra-observations N]

No sockets: the call is built as an ASGI request (scope, body) and handed to the app that
`earlypath serve` runs (every middleware, the router, the CDS service), with CDS auth off. In
the same run it measures a hello-world FastAPI route called the same way (the baseline), and the
parts of the call on their own: record reading (`earlypath.fhir.mapping`, owned by the records
work), the engine's progesterone section and the card. `--profile N` prints cProfile's top N
functions of the whole call instead; `--split` the time of each part inside the call
(perf_counter around each function the service calls, so each part costs what it costs in the
call, not in a loop of its own); `--tail` the collector's pauses and each call's wall time
(how long it holds the event loop); `--layers` the CPU a call spends in each middleware of
the CDS lane (the call entering at each layer, less the call entering at the next). `--extra-observations N` adds N Observations the reading
does not use (weights, blood pressures, haemoglobins), as a real record sent whole has.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import datetime as dt
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_cds_load import SERVICE, request_body  # noqa: E402

from tests.integration.asgi_scope import body_once, http_scope  # noqa: E402


def _scope(path: str, method: str, body: bytes) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return http_scope(path, headers, method=method)


def asgi_caller(
    app: Any, path: str, method: str, body: bytes, *, scope_app: Any = None
) -> Callable[[], Any]:
    """A coroutine function making one call; it checks the answer is a 200. ``scope_app``:
    the app to name in the scope, as Starlette does (a call entering below the app itself)."""

    async def call() -> bytes:
        receive = body_once(body)
        out: list[bytes] = []
        status = 0

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                out.append(message.get("body", b""))

        scope = _scope(path, method, body)
        if scope_app is not None:
            scope["app"] = scope_app
        await app(scope, receive, send)
        if status != 200:
            raise SystemExit(f"{path} answered {status}: {b''.join(out)[:200]!r}")
        return b"".join(out)

    return call


def hello_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


def cpu_per_call(
    loop: asyncio.AbstractEventLoop,
    call: Callable[[], Any],
    n: int,
    *,
    record_reading_done: bool = False,
) -> float:
    """CPU seconds per call. `record_reading_done`: the service's record reading answers at once
    with the result it gives for this record (what the call costs besides reading the record)."""
    from earlypath.web import cds

    read = cds.map_resources
    if record_reading_done:
        answers: dict[str, Any] = {}

        def already_read(resources: Any, today: dt.date, *zone: Any) -> Any:
            if "answer" not in answers:
                answers["answer"] = read(resources, today, *zone)
            answer = answers["answer"]
            return dataclasses.replace(answer, problems=list(answer.problems))

        cds.map_resources = already_read  # type: ignore[assignment]
    try:
        for _ in range(min(300, n)):
            loop.run_until_complete(call())
        start = time.process_time()
        for _ in range(n):
            loop.run_until_complete(call())
        return (time.process_time() - start) / n
    finally:
        cds.map_resources = read  # type: ignore[assignment]


# What `answer_call` calls, by the names it looks up in earlypath.web.cds (a checkout without
# one of them is split without it). Functions only: a class wrapped in a function loses its
# other constructors (`CdsJSONResponse.of_text`: every call answered 500).
SPLIT_PARTS = (
    "parse_json",
    "_check_request",
    "out_of_scope",
    "gather",
    "map_resources",
    "has_pregnancy_context",
    "assess_for_cards",
    "unchecked_reason",
    "merged_record",
    "decision_response",  # the patient-view answer's text (the card and its JSON)
    # the patient-view answer as it runs since the card is kept by the engine's key: the
    # episode validated and keyed, then the kept card's text (without them "the rest" held them)
    "cards_assessment",
    "cards_response",
)


def split_call(loop: asyncio.AbstractEventLoop, call: Callable[[], Any], n: int) -> dict[str, Any]:
    """Microseconds per call in each part of the service, timed inside the call (wall clock,
    perf_counter: a loaded machine adds its waits to every part alike)."""
    from earlypath.web import cds

    spent: dict[str, float] = {}
    saved = {name: getattr(cds, name) for name in SPLIT_PARTS if hasattr(cds, name)}

    def timed(name: str, fn: Any) -> Any:
        clock = time.perf_counter

        def part(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + clock() - start

        async def async_part(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return await fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + clock() - start

        return async_part if asyncio.iscoroutinefunction(fn) else part

    for name, fn in saved.items():
        setattr(cds, name, timed(name, fn))
    try:
        for _ in range(min(300, n)):
            loop.run_until_complete(call())
        spent.clear()
        start = time.perf_counter()
        for _ in range(n):
            loop.run_until_complete(call())
        whole = time.perf_counter() - start
    finally:
        for name, fn in saved.items():
            setattr(cds, name, fn)
    parts = {name: round(spent.get(name, 0.0) / n * 1e6, 1) for name in saved}
    parts["the rest (HTTP stack, middlewares, the service's own lines)"] = round(
        (whole - sum(spent.values())) / n * 1e6, 1
    )
    return {"whole_call_us_wall": round(whole / n * 1e6, 1), "parts_us": parts}


def layers_of(
    loop: asyncio.AbstractEventLoop, app: Any, body: bytes, n: int, rounds: int = 15
) -> dict[str, Any]:
    """CPU microseconds a call spends in each of the app's own middlewares (the CDS lane's:
    security headers, the auth-off rule, limits, CORS, QuietErrors), as the call entering at
    each layer less the call entering at the next. Rounds alternate between the entries and
    each keeps its least time, so a load that comes and goes falls on all of them alike.
    With the fused lane (`earlypath.web.cds_lane`) the first entry is `FusedCdsLane`, whose
    `.app` is the same middlewares as layers: its figure is the fused lane less the layers."""
    import gc

    layers = []  # the lane's middlewares, outermost first, down to ServiceCalls
    layer = app.cds_lane
    while layer is not None:
        layers.append(layer)
        if type(layer).__name__ == "ServiceCalls":
            break
        layer = getattr(layer, "app", None)
    entries = {"the app": asgi_caller(app, SERVICE, "POST", body)}
    for layer in layers:
        entries[type(layer).__name__] = asgi_caller(layer, SERVICE, "POST", body, scope_app=app)
    best = dict.fromkeys(entries, float("inf"))
    for call in entries.values():
        for _ in range(min(300, n)):
            loop.run_until_complete(call())
    collecting = gc.isenabled()
    gc.disable()  # a collection falls in one entry's time, not the others'
    try:
        for _ in range(rounds):
            for name, call in entries.items():
                start = time.process_time()
                for _ in range(n):
                    loop.run_until_complete(call())
                best[name] = min(best[name], (time.process_time() - start) / n)
    finally:
        if collecting:
            gc.enable()
    names = list(entries)
    own = {
        f"{name} (and the lane before it)" if name == "the app" else name: round(
            (best[name] - best[names[i + 1]]) * 1e6, 2
        )
        for i, name in enumerate(names[:-1])
    }
    return {
        "calls_a_round": n,
        "rounds": rounds,
        "whole_call_us_cpu": round(best["the app"] * 1e6, 1),
        "entering_at_ServiceCalls_us_cpu": round(best[names[-1]] * 1e6, 1),
        "each_layer_us_cpu": own,
        "middlewares_share_of_call": round(1 - best[names[-1]] / best["the app"], 3),
    }


def tail_of(loop: asyncio.AbstractEventLoop, call: Callable[[], Any], n: int) -> dict[str, Any]:
    """The collector's pauses in ``n`` calls after start-up's `settle_heap` (as `earlypath
    serve`), and each call's wall time: how long it keeps the event loop (a prefetched call
    awaits no I/O, so all of it)."""
    import gc

    from earlypath.web.heap import settle_heap

    for _ in range(min(300, n)):
        loop.run_until_complete(call())
    settle_heap()
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]

    def timing(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - started[0])

    walls = []
    gc.callbacks.append(timing)
    try:
        for _ in range(n):
            start = time.perf_counter()
            loop.run_until_complete(call())
            walls.append(time.perf_counter() - start)
    finally:
        gc.callbacks.remove(timing)
    walls.sort()
    return {
        "calls": n,
        "gc_thresholds": gc.get_threshold(),
        "objects_frozen": gc.get_freeze_count(),
        "collections": {
            f"generation_{g}": {"count": len(p), "max_ms": round(max(p, default=0) * 1e3, 3)}
            for g, p in pauses.items()
        },
        "call_wall_ms": {
            "p50": round(walls[n // 2] * 1e3, 3),
            "p99": round(walls[int(n * 0.99)] * 1e3, 3),
            "max": round(walls[-1] * 1e3, 3),
        },
    }


def cpu_of(fn: Callable[[], Any], n: int) -> float:
    for _ in range(min(300, n)):
        fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N")
    parser.add_argument("--split", action="store_true", help="time each part inside the call")
    parser.add_argument(
        "--tail", action="store_true", help="collector pauses and each call's wall time"
    )
    parser.add_argument(
        "--layers", action="store_true", help="CPU a call spends in each middleware of the lane"
    )
    parser.add_argument(
        "--extra-observations",
        type=int,
        default=0,
        help="add N Observations the reading leaves out (a record sent whole)",
    )
    parser.add_argument(
        "--instants",
        action="store_true",
        help="--profile, --split, --tail, --layers: the record with its dates as timestamps",
    )
    args = parser.parse_args()

    from earlypath.engines.python import assess
    from earlypath.fhir.cards import decision_card
    from earlypath.fhir.mapping import flatten, map_resources
    from earlypath.web.app import create_app
    from earlypath.web.config import Settings

    today = dt.datetime.now(dt.UTC).date()
    body_dict = request_body(today, args.extra_observations)
    # the same record with its dates written as real EHRs write them: timestamps with zones
    instants_dict = request_body(today, args.extra_observations, instants=True)
    if args.instants:
        body_dict = instants_dict
    body = json.dumps(body_dict).encode()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(auth=False, feedback_db=f"sqlite:///{Path(tmp) / 'fb.sqlite3'}")
        app = create_app(settings, today=lambda: today)
        loop = asyncio.new_event_loop()
        cds = asgi_caller(app, SERVICE, "POST", body)
        assert b"Offer vaginal progesterone" in loop.run_until_complete(cds())
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.calls):
                loop.run_until_complete(cds())
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
            pstats.Stats(profiler).sort_stats("cumtime").print_stats(args.profile)
            return
        if args.split:
            print(json.dumps(split_call(loop, cds, args.calls), indent=2))
            return
        if args.tail:
            print(json.dumps(tail_of(loop, cds, args.calls), indent=2))
            return
        if args.layers:
            print(json.dumps(layers_of(loop, app, body, min(args.calls, 400)), indent=2))
            return
        hello = asgi_caller(hello_app(), "/hello", "POST", b"")
        per_hello = cpu_per_call(loop, hello, args.calls)
        per_call = cpu_per_call(loop, cds, args.calls)
        per_call_read = cpu_per_call(loop, cds, args.calls, record_reading_done=True)
        cds_instants = asgi_caller(app, SERVICE, "POST", json.dumps(instants_dict).encode())
        assert b"Offer vaginal progesterone" in loop.run_until_complete(cds_instants())
        per_call_instants = cpu_per_call(loop, cds_instants, args.calls)
        loop.close()

    resources = flatten(list(body_dict["prefetch"].values()))
    mapped = map_resources(resources, today)
    per_reading = cpu_of(lambda: map_resources(resources, today), args.calls)
    with_instants = flatten(list(instants_dict["prefetch"].values()))
    assert map_resources(with_instants, today).episode == mapped.episode
    per_reading_instants = cpu_of(lambda: map_resources(with_instants, today), args.calls)
    try:  # what the call runs: the section without its trace (a checkout before it: assess)
        from earlypath.engines.python import assess_for_cards as for_cards
    except ImportError:
        for_cards = lambda episode: assess(episode, sections=("progesterone",))  # noqa: E731
    per_engine = cpu_of(lambda: for_cards(mapped.episode), args.calls)
    assessment = for_cards(mapped.episode)
    per_card = cpu_of(
        lambda: decision_card(assessment, "p", mapped.problems, mapped.evidence), args.calls
    )
    rest = per_call_read - per_engine - per_card
    report = {
        "calls": args.calls,
        "extra_observations": args.extra_observations,
        "body_bytes": len(body),
        "hello_world_ms_cpu": round(per_hello * 1e3, 4),
        "cds_call_ms_cpu": round(per_call * 1e3, 4),
        "ratio_cds_to_hello_world": round(per_call / per_hello, 1),
        "record_reading_alone_ms": round(per_reading * 1e3, 4),
        "engine_progesterone_alone_ms": round(per_engine * 1e3, 4),
        "card_alone_ms": round(per_card * 1e3, 4),
        "rest_ms (HTTP stack, middlewares, prefetch checks, JSON)": round(rest * 1e3, 4),
        "cds_call_with_record_reading_done_ms_cpu": round(per_call_read * 1e3, 4),
        "ratio_call_with_reading_done_to_hello_world": round(per_call_read / per_hello, 1),
        # the same record, its dates timestamps as EHRs send them (`request_body(instants=True)`)
        "cds_call_instants_ms_cpu": round(per_call_instants * 1e3, 4),
        "ratio_cds_instants_to_hello_world": round(per_call_instants / per_hello, 1),
        "record_reading_instants_alone_ms": round(per_reading_instants * 1e3, 4),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
