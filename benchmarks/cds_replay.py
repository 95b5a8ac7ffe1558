"""CDS calls at 50 connections replayed on one event loop and timed on the CPU clock: where the
p99 of `bench_cds_load.py` comes from, read on a machine shared by others.

Run: .venv/bin/python benchmarks/cds_replay.py [--requests 20000] [--connections 50]
                                              [--before CHECKOUT ...]

`bench_cds_load.py` loads a real server with wrk, and its latencies are wall time: on a machine
other people load, they are mostly theirs. This replays the same closed loop without sockets:
``--connections`` keep-alive connections through the service's own HTTP protocol
(`GuardedHttpToolsProtocol`, as `earlypath serve` runs it) on one asyncio loop, the app started
through its lifespan (warm-up and frozen heap as served), each connection sending its next
request the moment its answer is written; the request reaches the protocol on the loop's next
turn, in the order written, as epoll hands ready sockets on. A request's latency is read on the
thread's CPU clock (`time.thread_time`) from that write to the write of its own answer: the
server's time in between, with other processes' time left out (their effect on the caches is
not). Beside the percentiles: how many other requests were answered while each one waited (the
loop serves in turn when every request waits for each other connection's once), and the
collector's pauses by generation. The hello-world route (the load benchmark's baseline) is
replayed the same way, each app in a process of its own. Not named bench_*: `make bench` does
not run it.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WARM_REQUESTS = 1_000  # answered before the figures start (the interpreter's code specialised)


class _Transport(asyncio.Transport):
    """A connection's socket: every write is an answer (the protocol writes each whole)."""

    def __init__(self, number: int, written: Any) -> None:
        super().__init__()
        self.number = number
        self.written = written
        self.closed = False

    def write(self, data: Any) -> None:
        self.written(self.number, bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        peer = ("127.0.0.1", 5000 + self.number)
        return {"peername": peer, "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    count = len(ordered)

    def at(q: float) -> float:
        return round(ordered[min(count - 1, int(q * count))] * 1e3, 3)

    return {
        "p50_ms": at(0.5),
        "p90_ms": at(0.9),
        "p99_ms": at(0.99),
        "p99_9_ms": at(0.999),
        "max_ms": round(ordered[-1] * 1e3, 3),
        "mean_ms": round(sum(ordered) / count * 1e3, 3),
    }


def replay(
    which: str, requests: int, connections: int, warm: int = WARM_REQUESTS
) -> dict[str, Any]:
    """Replay ``requests`` requests of ``which`` ("cds" or "hello") in this process, after
    ``warm`` requests not counted."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_cds_load import SERVICE, hello_app, request_body
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from earlypath.web.protocol import GuardedHttpToolsProtocol

    clock = time.thread_time
    body = json.dumps(request_body(dt.datetime.now(dt.UTC).date())).encode()
    head = (
        f"POST {SERVICE} HTTP/1.1\r\nhost: 127.0.0.1:8000\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode()
    request = head + body
    if which == "hello":
        app = hello_app()
        expected = b'{"cards":[]}'
    else:
        from earlypath.web.app import create_app
        from earlypath.web.config import Settings

        app = create_app(Settings.from_env())
        expected = b"Offer vaginal progesterone"
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    protocols: list[Any] = []
    sent_at = [0.0] * connections
    answered_before = [0] * connections  # answers written when each request was sent
    latencies: list[float] = []
    waited_for: collections.Counter[int] = collections.Counter()
    answered = [0]
    finished = asyncio.Event()
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    pause_started = [0.0]

    def arrive(number: int) -> None:
        protocols[number].data_received(request)

    def send(number: int) -> None:
        sent_at[number] = clock()
        answered_before[number] = answered[0]
        loop.call_soon(arrive, number)

    def written(number: int, data: bytes) -> None:
        if not data.startswith(b"HTTP/1.1 200") or expected not in data:
            raise SystemExit(f"{which}: not the expected answer: {data[:200]!r}")
        if answered[0] >= warm:
            latencies.append(clock() - sent_at[number])
            waited_for[answered[0] - answered_before[number]] += 1
        answered[0] += 1
        if answered[0] >= warm + requests:
            finished.set()
        else:
            send(number)

    def collector(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            pause_started[0] = clock()
        elif answered[0] >= warm:
            pauses[info["generation"]].append(clock() - pause_started[0])

    async def run() -> None:
        async with app.router.lifespan_context(app):  # the warm-up and frozen heap, as served
            config = Config(app=app, lifespan="off", log_level="warning")
            config.load()
            state = ServerState()
            for number in range(connections):
                protocol = GuardedHttpToolsProtocol(
                    config=config, server_state=state, app_state={}, _loop=loop
                )
                protocol.connection_made(_Transport(number, written))
                protocols.append(protocol)
            gc.callbacks.append(collector)
            for number in range(connections):
                send(number)
            await finished.wait()
            gc.callbacks.remove(collector)
            for protocol in protocols:
                protocol.connection_lost(None)

    loop.run_until_complete(run())
    loop.close()
    return {
        "requests": len(latencies),
        "connections": connections,
        "cpu_latency": _percentiles(latencies),
        # how many other requests were answered while one waited: `connections - 1` for all
        # when the loop serves the connections in turn
        "others_answered_while_waiting": {
            "min": min(waited_for),
            "max": max(waited_for),
            "share_at_connections_less_one": round(
                waited_for[connections - 1] / max(1, len(latencies)), 4
            ),
        },
        "collector": {
            f"generation_{g}": {
                "runs": len(p),
                "ms_in_all": round(sum(p) * 1e3, 3),
                "longest_ms": round(max(p, default=0.0) * 1e3, 3),
            }
            for g, p in pauses.items()
        },
    }


def _in_process(
    checkout: Path, which: str, requests: int, connections: int, warm: int = WARM_REQUESTS
) -> dict[str, Any]:
    """`replay` in a process of its own, with ``checkout``'s earlypath first on the path."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(checkout), os.environ.get("PYTHONPATH", "")]),
            "EARLYPATH_CDS_AUTH": "off",
            "EARLYPATH_FEEDBACK_DB": f"sqlite:///{Path(tmp) / 'feedback.sqlite3'}",
        }
        args = [sys.executable, __file__, "--as-replay", which]
        args += [str(requests), str(connections), str(warm)]
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{which} replay ({checkout}) failed:\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--before", type=Path, action="append", default=[], help="a checkout")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    hello = _in_process(ROOT, "hello", args.requests, args.connections)
    report["hello_world"] = hello
    for checkout in [*args.before, ROOT]:
        cds = _in_process(checkout.resolve(), "cds", args.requests, args.connections)
        cds["ratio_p99_to_hello_world"] = round(
            cds["cpu_latency"]["p99_ms"] / hello["cpu_latency"]["p99_ms"], 2
        )
        cds["ratio_p50_to_hello_world"] = round(
            cds["cpu_latency"]["p50_ms"] / hello["cpu_latency"]["p50_ms"], 2
        )
        report[f"cds {checkout.resolve()}"] = cds
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--as-replay":
        which, *counts = sys.argv[2:]
        print(json.dumps(replay(which, *map(int, counts))))
    else:
        main()
