"""The ASGI scope of one HTTP request, as uvicorn gives it to the app, and a `receive` that
gives its body: one writing for the tests that call the app as raw ASGI and for the CDS
benchmarks (benchmarks/bench_cds_call.py imports it, so it stays importable with only the
repository root on the path)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from earlypath.web.limits import GUARDED_HTTP

LOOPBACK = ("127.0.0.1", 50000)
SERVER = ("127.0.0.1", 8000)


def http_scope(
    path: str,
    headers: list[tuple[bytes, bytes]],
    *,
    method: str = "POST",
    client: tuple[str, int] = LOOPBACK,
    guarded: bool = True,
) -> dict[str, Any]:
    """The scope of a plain-HTTP request to ``path`` with these ``headers`` (the list is the
    scope's own). ``guarded``: marked as `earlypath serve`'s protocol marks each request (its
    headers already bounded by the server), with an empty per-request ``state``."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": client,
        "server": SERVER,
    }
    if guarded:
        scope["extensions"] = {GUARDED_HTTP: {}}
        scope["state"] = {}
    return scope


def body_once(body: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    """An ASGI ``receive`` giving ``body`` whole in one message, then waiting, as a server
    does, until the client goes (never within a call)."""
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    return receive
