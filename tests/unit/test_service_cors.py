"""`ServiceCORS` answers every request as Starlette's CORSMiddleware does (issue 16: it only
writes the simple answer on the raw headers)."""

from __future__ import annotations

import asyncio
import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.middleware.cors import CORSMiddleware

from earlypath.web.cors import ServiceCORS

POLICIES = [
    {
        "allow_origins": ["*"],
        "allow_methods": ["GET", "POST", "OPTIONS"],
        "allow_headers": ["Authorization", "Content-Type", "Accept"],
        "allow_credentials": False,
        "max_age": 600,
    },
    {"allow_origins": ["*"], "expose_headers": ["X-Trace"]},
    {"allow_origins": ["https://ehr.example.org"]},
    {"allow_origins": ["*"], "allow_credentials": True},
]
REQUEST_HEADERS = [
    [],
    [(b"origin", b"https://ehr.example.org")],
    [(b"origin", b"https://a.example"), (b"origin", b"https://b.example")],
    [(b"origin", b"https://ehr.example.org"), (b"access-control-request-method", b"POST")],
    [(b"access-control-request-method", b"POST")],
]
RESPONSE_HEADERS = [
    [],
    [(b"content-type", b"application/json"), (b"content-length", b"2")],
    [(b"vary", b"Accept-Encoding")],
    [(b"vary", b"Accept"), (b"x", b"1"), (b"vary", b"Cookie")],
    [(b"access-control-allow-origin", b"https://x"), (b"access-control-allow-origin", b"y")],
]


def _answer(cls: type, policy: dict[str, Any], method: str, request: Any, response: Any) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(response)})
        await send({"type": "http.response.body", "body": b"{}"})

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": method, "path": "/x", "headers": list(request)}
    _run_alone(cls(app, **policy)(scope, receive, send))
    return sent


def _run_alone(call: Any) -> None:
    """Run a coroutine on an event loop of its own thread: in the whole suite an earlier test
    (the browser tests' sync API) can leave a loop running in this one, where asyncio.run fails."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, call).result()


@pytest.mark.parametrize("policy", POLICIES, ids=["service", "expose", "listed", "credentials"])
def test_answers_as_starlette(policy: dict[str, Any]) -> None:
    for method, request, response in itertools.product(
        ("GET", "POST", "OPTIONS"), REQUEST_HEADERS, RESPONSE_HEADERS
    ):
        ours = _answer(ServiceCORS, policy, method, request, response)
        theirs = _answer(CORSMiddleware, policy, method, request, response)
        assert ours == theirs, (method, request, response)
