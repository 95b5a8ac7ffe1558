"""The service started by uvicorn directly, not by `earlypath serve` (issue 15 items 3 and 12).

- With `--http earlypath.web.protocol:GuardedHttpToolsProtocol` it has the same header guards as
  `earlypath serve`: a header streamed without end is refused after a few kilobytes.
- Without it, the application still refuses a request whose parsed headers are over the limit
  (431) and warns, once, that the server does not bound headers as they arrive.
- With CDS auth off and a non-loopback bind, a caller from another address gets 403.
All on this machine's own addresses, bounded in time; every server started is stopped.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from earlypath.web.config import Settings
from earlypath.web.limits import GUARDED_HTTP, UNGUARDED_SERVER_WARNING, RequestLimits
from tests.async_run import run_coroutine
from tests.integration.live_server import REPO, free_port

GUARDED = "earlypath.web.protocol:GuardedHttpToolsProtocol"


@contextmanager
def uvicorn_direct(*extra: str, host: str = "127.0.0.1") -> Iterator[tuple[str, int, Path]]:
    """`uvicorn --factory earlypath.web.app:create_app` with auth off; yields (host, port, log)."""
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="earlypath-uvicorn-")) / "stderr.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "EARLYPATH_CDS_AUTH": "off",
        "EARLYPATH_FEEDBACK_DB": f"sqlite:///{log.parent / 'fb.sqlite3'}",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "earlypath.web.app:create_app"]
    command += ["--host", host, "--port", str(port), *extra]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text(errors="replace")[-2000:]
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    assert time.monotonic() < deadline, "uvicorn did not start"
                    time.sleep(0.2)
            yield host, port, log
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stream_header(port: int, total: int = 4_000_000) -> bytes:
    """Send a header that never ends (up to `total` bytes); what the server answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /api/schema HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent, chunk = 0, b"a" * 65_536
        try:
            while sent < total:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection: read its answer
        try:
            return sock.recv(400)
        except OSError:
            return b""


def test_uvicorn_with_the_guarded_protocol_refuses_an_endless_header():
    with uvicorn_direct("--http", GUARDED) as (_, port, log):
        answer = _stream_header(port)
        assert answer.startswith(b"HTTP/1.1 431")
        assert b"x-content-type-options: nosniff" in answer
        assert httpx.get(f"http://127.0.0.1:{port}/api/schema", timeout=10).status_code == 200
    assert UNGUARDED_SERVER_WARNING not in log.read_text()


def test_uvicorn_without_it_refuses_big_headers_in_the_app_and_warns():
    with uvicorn_direct("--http", "httptools") as (_, port, log):
        base = f"http://127.0.0.1:{port}"
        big = {f"x-h{i}": "a" * 1000 for i in range(40)}  # 40 kB, over the 32 kB default
        response = httpx.get(base + "/api/schema", headers=big, timeout=10)
        assert response.status_code == 431
        assert httpx.get(base + "/api/schema", timeout=10).status_code == 200
        time.sleep(0.5)  # the log is written by the server process
    assert log.read_text().count(UNGUARDED_SERVER_WARNING) == 1


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing address
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_uvicorn_bound_to_all_addresses_with_auth_off_answers_loopback_only():
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with uvicorn_direct(host="0.0.0.0") as (_, port, _log):
        remote = httpx.get(f"http://{address}:{port}/api/schema", timeout=10)
        local = httpx.get(f"http://127.0.0.1:{port}/api/schema", timeout=10)
    assert remote.status_code == 403
    assert "loopback" in remote.text
    assert local.status_code == 200


# The app-level header check, without a server


def _limits() -> RequestLimits:
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return RequestLimits(
        app, max_body_bytes=1024, body_timeout=1, max_json_depth=8, max_header_bytes=2048
    )


async def _answer(limits: RequestLimits, headers: list[tuple[bytes, bytes]], guarded: bool) -> int:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "extensions": {GUARDED_HTTP: {}} if guarded else {},
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await limits(scope, receive, send)
    return sent[0]["status"]


def test_the_app_refuses_parsed_headers_over_the_limit_and_warns_once(caplog):
    big, small = [(b"x-big", b"a" * 3000)], [(b"host", b"x")]
    unguarded, guarded = _limits(), _limits()
    with caplog.at_level(logging.WARNING, logger="earlypath.web"):
        assert run_coroutine(_answer(unguarded, big, guarded=False)) == 431
        assert run_coroutine(_answer(unguarded, small, guarded=False)) == 200
        assert run_coroutine(_answer(unguarded, big, guarded=False)) == 431
        # Read by the guarded protocol: bounded as they arrived, no warning.
        assert run_coroutine(_answer(guarded, big, guarded=True)) == 200
    assert caplog.text.count(UNGUARDED_SERVER_WARNING) == 1


def test_the_in_process_app_refuses_big_headers(make_client, tmp_path):
    settings = Settings(
        auth=False, feedback_db=f"sqlite:///{tmp_path / 'fb.sqlite3'}", max_header_bytes=4096
    )
    client = make_client(settings)
    assert client.get("/api/schema", headers={"x-big": "a" * 5000}).status_code == 431
    assert client.get("/api/schema", headers={"x-small": "a" * 100}).status_code == 200
