"""Issue 11: no patient id, resource id, token or query string in any log line.

Runs the real service (uvicorn in a subprocess on 127.0.0.1, logging on) against a fake FHIR
server on loopback, makes CDS calls that fetch, page, refuse and fail, then greps everything the
service printed for the ids, tokens and query values it was sent.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.fhir_data import (
    PATIENT_ID,
    bleeding,
    bundle,
    condition,
    crl,
    hook_request,
    iup,
    lmp,
    previous_miscarriage,
)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-SECRET-7cc1"
PAGE_KEY = "pagekey-SECRET-31"
OTHER = "other-SECRET-2290"
QUERY_VALUE = "query-SECRET-5" + "512"
RESOURCE_IDS = ["cond-SECRET-a1", "cond-SECRET-a2", "obs-SECRET-b1"]
SECRETS = [PATIENT_ID, TOKEN, PAGE_KEY, OTHER, QUERY_VALUE, *RESOURCE_IDS, "patient="]


class FakeFhir(BaseHTTPRequestHandler):
    """A FHIR server: Conditions in two pages (the second behind a next link), the rest in one."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        FakeFhir.seen.append((self.path, self.headers.get("Authorization")))
        base = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        first, second = previous_miscarriage(), bleeding()
        first["id"], second["id"] = RESOURCE_IDS[:2]
        body: dict[str, Any]
        if url.path == f"/fhir/Patient/{PATIENT_ID}":
            body = {"resourceType": "Patient", "id": PATIENT_ID, "gender": "female"}
        elif url.path == "/fhir" and params.get("_getpages") == [PAGE_KEY]:
            body = bundle([second])
        elif url.path == "/fhir/Condition":
            body = bundle([first])
            body["total"] = 2
            body["link"] = [
                {"relation": "self", "url": f"{base}/Condition?patient={PATIENT_ID}"},
                {"relation": "next", "url": f"{base}?_getpages={PAGE_KEY}&_getpagesoffset=1"},
            ]
        elif url.path == "/fhir/Observation":
            obs = [lmp(), iup(), crl()]
            obs[0]["id"] = RESOURCE_IDS[2]
            body = bundle(obs)
        else:
            body = bundle([])
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:  # the fake server's own log is not under test
        pass


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeFhir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_service(command: list[str], port: int, tmp_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "EARLYPATH_CDS_AUTH": "off",
        "EARLYPATH_FEEDBACK_DB": f"sqlite:///{tmp_path / 'fb.sqlite3'}",
    }
    # To a file, not a pipe: a full pipe would stall the service mid-test.
    with (tmp_path / "service.log").open("w") as log:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    process.kill()
    process.wait()
    pytest.fail(f"service did not start: {(tmp_path / 'service.log').read_text()[-2000:]}")


def _calls(port: int, fhir: str) -> list[int]:
    """CDS calls that fetch, page, refuse and fail; returns their status codes."""
    url = f"http://127.0.0.1:{port}/cds-services/ng126-progesterone"
    auth = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300, "scope": "x",
            "subject": "earlypath"}  # fmt: skip
    fetched = {**hook_request("patient-view", None), "fhirServer": fhir, "fhirAuthorization": auth}
    foreign_link = {
        **fetched,
        "prefetch": {
            "conditions": {
                **bundle([previous_miscarriage()]),
                "link": [{"relation": "next", "url": f"https://evil.example.org/{PAGE_KEY}"}],
            }
        },
    }
    stranger = condition(RESOURCE_IDS[0], "289530006", None)
    stranger["subject"] = {"reference": f"Patient/{OTHER}"}
    foreign_data = {**fetched, "prefetch": {"conditions": bundle([stranger])}}
    bad_id = {**fetched, "context": {"patientId": f"{PATIENT_ID}/../{OTHER}"}}
    statuses = []
    with httpx.Client(timeout=10) as client:
        for body in (fetched, foreign_link, foreign_data, bad_id):
            statuses.append(client.post(url, json=body).status_code)
        page = client.get(f"http://127.0.0.1:{port}/check?lmp={QUERY_VALUE}&id={PATIENT_ID}")
        statuses.append(page.status_code)
    return statuses


def _stop(process: subprocess.Popen, tmp_path: Path) -> str:
    """Stop the service; everything it printed."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return (tmp_path / "service.log").read_text()


def _assert_no_secrets(output: str) -> None:
    leaked = [s for s in SECRETS if s in output]
    assert not leaked, f"logged: {leaked}\n{output[-3000:]}"


def test_earlypath_serve_logs_no_ids_tokens_or_queries(fhir_server, tmp_path):
    FakeFhir.seen.clear()
    port = _free_port()
    command = [sys.executable, "-c", "from earlypath.cli import main; main()", "serve"]
    process = _run_service([*command, "--port", str(port)], port, tmp_path)
    try:
        statuses = _calls(port, fhir_server)
    finally:
        output = _stop(process, tmp_path)
    _assert_no_secrets(output)
    assert statuses == [200, 412, 422, 400, 200]
    # the service did fetch, page 2 included, with the token
    assert any(PAGE_KEY in path for path, _ in FakeFhir.seen)
    assert {auth for _, auth in FakeFhir.seen} == {f"Bearer {TOKEN}"}
    assert "outside fhirServer" in output and "another patient" in output  # logging was on


def test_uvicorn_at_trace_level_with_access_log_logs_no_ids(fhir_server, tmp_path):
    """Started the way a site might: uvicorn's CLI, root logger at DEBUG, access log on."""
    FakeFhir.seen.clear()
    config = tmp_path / "logging.json"
    config.write_text(
        json.dumps(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
                "handlers": {
                    "out": {
                        "class": "logging.StreamHandler",
                        "formatter": "plain",
                        "stream": "ext://sys.stderr",
                    }
                },
                "root": {"level": "DEBUG", "handlers": ["out"]},
            }
        )
    )
    port = _free_port()
    command = [
        *(sys.executable, "-m", "uvicorn", "earlypath.web.app:create_app", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "trace"),
        *("--log-config", str(config), "--access-log"),
    ]
    process = _run_service(command, port, tmp_path)
    try:
        statuses = _calls(port, fhir_server)
    finally:
        output = _stop(process, tmp_path)
    _assert_no_secrets(output)
    assert statuses == [200, 412, 422, 400, 200]
    assert any(PAGE_KEY in path for path, _ in FakeFhir.seen)
    assert "POST /cds-services/ng126-progesterone" in output  # the access log was on
    assert "GET /check" in output
