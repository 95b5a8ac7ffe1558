"""Limits and timeouts hold before any handler runs: header and body size (431 / 413, counted
while the bytes arrive), header-read, body-read and keep-alive timeouts, the concurrency limit
(503), JSON nesting (400). Real sockets on loopback where the behaviour lives in the server.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from earlypath.cli import app as cli_app
from earlypath.web.config import ConfigError, Settings
from earlypath.web.limits import json_too_deep
from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for
from tests.integration.live_server import Server, live_server

LIMITS = {
    "EARLYPATH_CDS_AUTH": "off",
    "EARLYPATH_MAX_HEADER_BYTES": "8192",
    "EARLYPATH_MAX_BODY_BYTES": "65536",
    "EARLYPATH_HEADER_TIMEOUT": "2",
    "EARLYPATH_BODY_TIMEOUT": "2",
    "EARLYPATH_KEEP_ALIVE_TIMEOUT": "1",
    "EARLYPATH_MAX_CONCURRENCY": "6",
}


@pytest.fixture(scope="module")
def server_log(tmp_path_factory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("limits") / "fb.sqlite3"
    with live_server({**LIMITS, "EARLYPATH_FEEDBACK_DB": f"sqlite:///{db}"}) as running:
        yield running


@pytest.fixture(scope="module")
def server(server_log: Server) -> tuple[str, int]:
    host, port = server_log.base.removeprefix("http://").split(":")
    return host, int(port)


def _connect(server: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(server, timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def _send_until_refused(sock: socket.socket, head: bytes, filler: bytes, total: int) -> int:
    """Send `head` then `filler` repeatedly up to `total` bytes; how many went before refusal."""
    sent = 0
    try:
        sock.sendall(head)
        while sent < total:
            sock.sendall(filler)
            sent += len(filler)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def test_huge_header_is_431_after_a_few_kilobytes(server):
    sock = _connect(server)
    started = time.monotonic()
    sent = _send_until_refused(
        sock, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", b"a" * 65536, 100 * 1024 * 1024
    )
    response = _read_all(sock)
    assert response.startswith(b"HTTP/1.1 431"), response[:200]
    assert b"request headers too large" in response
    assert sent < 20 * 1024 * 1024  # refused early, not after reading 100 MB
    assert time.monotonic() - started < 10


def test_many_headers_is_431(server):
    sock = _connect(server)
    head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(200)
    )
    sock.sendall(head + b"\r\n")
    assert _read_all(sock).startswith(b"HTTP/1.1 431")


def test_declared_huge_body_is_413_without_reading_it(server):
    sock = _connect(server)
    sock.sendall(
        b"POST /api/assess HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 104857600\r\n\r\n"
    )
    response = _read_all(sock)
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert b"request body over 65536 bytes" in response
    assert len(response) < 2048  # a short answer


def test_streamed_huge_body_is_413_while_it_arrives(server):
    sock = _connect(server)
    chunk = b"%x\r\n%s\r\n" % (65536, b"[" * 65536)
    head = (
        b"POST /cds-services/ng126-progesterone HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    started = time.monotonic()
    sent = _send_until_refused(sock, head, chunk, 100 * 1024 * 1024)
    response = _read_all(sock)
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert sent < 20 * 1024 * 1024
    assert time.monotonic() - started < 10


def test_slow_headers_are_cut_off(server):
    idle = _connect(server)  # says nothing at all
    slow = _connect(server)
    slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never finishes
    started = time.monotonic()
    response = _read_all(slow)
    assert response.startswith(b"HTTP/1.1 408"), response[:200]
    quiet = _read_all(idle)
    assert quiet == b"" or quiet.startswith(b"HTTP/1.1 408")
    assert 1.5 < time.monotonic() - started < 6


def test_slow_body_is_408(server):
    sock = _connect(server)
    sock.sendall(
        b"POST /api/assess HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    started = time.monotonic()
    response = _read_all(sock)
    assert response.startswith(b"HTTP/1.1 408"), response[:200]
    assert time.monotonic() - started < 6


def test_idle_keep_alive_connection_is_closed(server):
    sock = _connect(server)
    sock.sendall(b"GET /api/schema HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    first = sock.recv(1 << 20)
    assert first.startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    rest = _read_all(sock)  # the server closes the idle connection: recv returns b""
    assert time.monotonic() - started < 4
    assert b"HTTP/1.1" not in rest


def test_concurrency_limit_is_503(server):
    held = [_connect(server) for _ in range(6)]
    for sock in held:
        sock.sendall(b"GET / HTTP/1.1\r\n")  # half-open: held until the header timeout
    time.sleep(0.2)
    extra = _connect(server)
    extra.sendall(b"GET /api/schema HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert _read_all(extra).startswith(b"HTTP/1.1 503")
    for sock in held:
        sock.close()


# JSON nesting: in the application, whatever server runs it


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_400_everywhere(client, depth):
    deep = _nested(depth)
    bodies = {
        "/api/assess": '{"assessed_on": "2024-03-04", "x": ' + deep + "}",
        "/cds-services/ng126-progesterone": '{"hook": "patient-view", "context": ' + deep + "}",
        "/cds-services/ng126-progesterone/feedback": '{"feedback": [{"card": ' + deep + "}]}",
    }
    for path, body in bodies.items():
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (path, response.text[:200])
        assert response.json() == {
            "errors": [{"field": "(request)", "message": "JSON is nested deeper than 64 levels"}]
        }
    # also without a JSON content type (the CDS endpoints parse any body)
    response = client.post("/cds-services/ng126-progesterone", content=deep)
    assert response.status_code == 400


def test_normal_cds_bodies_pass_the_depth_check(client):
    body = hook_request("patient-view", prefetch_for(eligible_resources()))
    assert not json_too_deep(json.dumps(body).encode(), 64)
    assert client.post("/cds-services/ng126-progesterone", json=body).status_code == 200


def test_depth_counts_brackets_outside_strings_only():
    assert not json_too_deep(b'{"a": "' + b"[" * 500 + b'"}', 64)
    assert not json_too_deep(b'{"a": "\\"' + b"{" * 500 + b'"}', 64)
    assert json_too_deep(b'{"a": "\\\\"' + b"," + b"[" * 70 + b"]" * 70 + b"}", 64)
    assert not json_too_deep(b"[]" * 10_000, 64)
    assert json_too_deep(_nested(65).encode(), 64)
    assert not json_too_deep(_nested(64).encode(), 64)


def test_body_limit_in_the_app(make_client, tmp_path):
    client = make_client(
        Settings(auth=False, feedback_db=f"sqlite:///{tmp_path / 'f.db'}", max_body_bytes=2048)
    )
    response = client.post("/api/assess", content=b"{" + b" " * 5000 + b"}")
    assert response.status_code == 413
    assert response.json()["errors"][0]["message"] == "request body over 2048 bytes"
    response = client.post(
        "/api/assess", content=b"{}", headers={"Content-Length": "2", "X-Ok": "1"}
    )
    assert response.status_code == 422  # under the limit: on to the contract check


def test_limits_are_named_settings_with_safe_defaults(monkeypatch):
    settings = Settings.from_env()
    assert (settings.max_header_bytes, settings.max_body_bytes) == (32_768, 2_097_152)
    assert (settings.header_timeout, settings.body_timeout) == (10, 30)
    assert (settings.keep_alive_timeout, settings.max_concurrency) == (5, 1_000)
    assert settings.max_json_depth == 64
    monkeypatch.setenv("EARLYPATH_MAX_BODY_BYTES", "1k")
    with pytest.raises(ConfigError, match="EARLYPATH_MAX_BODY_BYTES must be a whole number"):
        Settings.from_env()


def test_serve_refuses_bad_settings_with_the_reason(monkeypatch):
    monkeypatch.setenv("EARLYPATH_CDS_AUTH", "on")
    monkeypatch.delenv("EARLYPATH_PUBLIC_URL", raising=False)
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 2
    assert "EARLYPATH_PUBLIC_URL is required" in result.output
    monkeypatch.setenv("EARLYPATH_CDS_AUTH", "off")
    monkeypatch.setenv("EARLYPATH_MAX_CONCURRENCY", "0")
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 2
    assert "EARLYPATH_MAX_CONCURRENCY must be between" in result.output


def test_refusals_above_were_not_logged_as_internal_errors(server_log):
    text = server_log.log_text()
    assert "internal error" not in text and "Traceback" not in text, text[-2000:]


def test_serve_refuses_a_malformed_issuer_allow_list(monkeypatch, tmp_path):
    path = tmp_path / "issuers.json"
    path.write_text('{"issuers": [{"iss": "https://ehr.example.org", "jwks": {"keys": 1}}]}')
    monkeypatch.setenv("EARLYPATH_CDS_AUTH", "on")
    monkeypatch.setenv("EARLYPATH_PUBLIC_URL", "https://cds.example.org")
    monkeypatch.setenv("EARLYPATH_CDS_ISSUERS", str(path))
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 2
    assert "refusing to start: EARLYPATH_CDS_ISSUERS issuers[0].jwks must be a JWK Set" in (
        result.output
    )
