"""Soak: 50 concurrent CDS calls with auth on (a fresh signed JWT each, checked against the shared
used-token store), against `earlypath serve` in a subprocess on loopback, for a bounded time.

Throughput must hold steady (no window under half the median window), with no error at all.
EARLYPATH_SOAK_SECONDS sets the duration (default 10; 60 for the figures in the notes); the
figures (requests/s per window after a 3 s warm-up, p50/p99, errors) are printed and, with EARLYPATH_SOAK_REPORT set,
written there as JSON. Run: pytest -m soak -s tests/integration/test_soak.py
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.async_run import run_coroutine
from tests.integration.conftest import ISS, Signer
from tests.integration.fhir_data import TODAY, eligible_resources, hook_request, prefetch_for
from tests.integration.live_server import live_server

pytestmark = pytest.mark.soak

CONCURRENCY = 50
WARM_UP_SECONDS = 3  # calls finishing in the first seconds are not counted
PATH = "/cds-services/ng126-progesterone"
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def _shifted_to_today(body: dict[str, Any]) -> bytes:
    """The test record moved from its fixed 'today' to the real one (the server's clock)."""
    shift = dt.datetime.now(dt.UTC).date() - TODAY

    def move(match: re.Match[str]) -> str:
        return (dt.date.fromisoformat(match.group(1)) + shift).isoformat()

    return _DATE.sub(move, json.dumps(body)).encode()


def _token(signer: Signer, aud: str) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": aud, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, signer.private, algorithm=signer.alg, headers={"kid": signer.kid})


async def _call(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool, bool]:
    """One HTTP/1.1 exchange on a kept-alive connection: (status, has cards, keep alive)."""
    writer.write(request)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length, keep_alive = 0, True
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and value.strip().lower() == "close":
            keep_alive = False
    data = await reader.readexactly(length)
    return status, data.startswith(b'{"cards":[{'), keep_alive


async def _drive(
    base: str, signer: Signer, body: bytes, seconds: float, tokens: list[str]
) -> list[tuple]:
    """(finished at, latency s, status or error name, has cards) per call, from 50 callers.

    A minimal HTTP/1.1 client on keep-alive connections, so the driver leaves the CPU to the
    server; tokens are minted before the run (new ones on the fly if they run out).
    """
    host, port = base.removeprefix("http://").split(":")
    results: list[tuple] = []
    deadline = time.monotonic() + seconds

    def request() -> bytes:
        token = tokens.pop() if tokens else _token(signer, base + PATH)
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def caller() -> None:
        connection = None
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                if connection is None:
                    connection = await asyncio.open_connection(host, int(port))
                status, cards, keep_alive = await _call(*connection, request())
                if not keep_alive:
                    connection[1].close()
                    connection = None
                outcome: tuple = (status, cards)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
                outcome = (type(error).__name__, False)
                connection = None
            finished = time.monotonic()
            results.append((finished, finished - started, *outcome))
        if connection is not None:
            connection[1].close()

    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    return results


def _figures(results: list[tuple], started: float, seconds: float) -> dict[str, Any]:
    """Figures over the measured period (after the warm-up), in whole windows."""
    window = 10.0 if seconds >= 30 else seconds / 5
    results = [r for r in results if r[0] >= started]
    counts: dict[int, int] = {}
    for finished, *_ in results:
        index = int((finished - started) // window)
        if index * window + window <= seconds:  # whole windows only
            counts[index] = counts.get(index, 0) + 1
    latencies = sorted(r[1] for r in results)
    errors = [r for r in results if r[2] != 200]
    return {
        "seconds": seconds,
        "concurrency": CONCURRENCY,
        "requests": len(results),
        "window_seconds": window,
        "requests_per_second_by_window": [
            round(counts.get(i, 0) / window, 1) for i in range(int(seconds // window))
        ],
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1),
        "max_ms": round(1000 * latencies[-1], 1),
        "errors": len(errors),
        "error_kinds": sorted({str(r[2]) for r in errors}),
        "answers_without_a_card": sum(1 for r in results if r[2] == 200 and not r[3]),
    }


def test_soak_50_concurrent_cds_calls_with_auth_on(tmp_path):
    seconds = float(os.environ.get("EARLYPATH_SOAK_SECONDS", "10"))
    signer = Signer()
    (tmp_path / "jwks.json").write_text(json.dumps(signer.jwks))
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks_file": "jwks.json"}]}))
    body = _shifted_to_today(hook_request("patient-view", prefetch_for(eligible_resources())))
    env = {
        "EARLYPATH_CDS_AUTH": "on",
        "EARLYPATH_CDS_ISSUERS": str(issuers),
        "EARLYPATH_FEEDBACK_DB": f"sqlite:///{tmp_path / 'fb.sqlite3'}",
    }
    with live_server(env, public_url=True) as server:
        aud = server.base + PATH
        tokens = [_token(signer, aud) for _ in range(int((seconds + WARM_UP_SECONDS) * 250))]
        started = time.monotonic() + WARM_UP_SECONDS
        results = run_coroutine(
            _drive(server.base, signer, body, seconds + WARM_UP_SECONDS, tokens)
        )
        log = server.log_text()
    figures = _figures(results, started, seconds)
    print("\nsoak figures:", json.dumps(figures, indent=2))
    if os.environ.get("EARLYPATH_SOAK_REPORT"):
        Path(os.environ["EARLYPATH_SOAK_REPORT"]).write_text(json.dumps(figures, indent=2))
    assert figures["errors"] == 0, figures["error_kinds"]
    assert figures["answers_without_a_card"] == 0  # the engine answered every call
    windows = figures["requests_per_second_by_window"]
    assert min(windows) >= 0.5 * statistics.median(windows), windows
    assert "internal error" not in log and "Traceback" not in log
