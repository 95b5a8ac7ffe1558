"""Security headers on every response, the auth-off loopback rule inside the app, client
disconnects not logged as internal errors.
"""

from __future__ import annotations

import asyncio
import logging
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from starlette.requests import ClientDisconnect

from earlypath.web import create_app
from earlypath.web.app import QuietErrors
from earlypath.web.config import Settings
from earlypath.web.guards import csp_hash
from tests.async_run import run_coroutine
from tests.integration.asgi_scope import http_scope
from tests.integration.conftest import BASE
from tests.integration.fhir_data import TODAY, eligible_resources, hook_request, prefetch_for

PAGES = ["/", "/check", "/impact", "/api/schema", "/cds-services", "/no-such-page"]


def _csp(response) -> dict[str, str]:
    directives = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    csp = _csp(response)
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_headers_on_refusals_too(make_client, tmp_path):
    client = make_client(
        Settings(auth=False, feedback_db=f"sqlite:///{tmp_path / 'f.db'}", max_body_bytes=1024)
    )
    response = client.post("/api/assess", content=b"x" * 5000)
    assert response.status_code == 413
    assert response.headers["x-frame-options"] == "DENY"


def _inline_bits(html: str) -> tuple[list[str], list[str]]:
    scripts = re.findall(r'\son[a-z]+="([^"]*)"', html)
    scripts += re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.DOTALL)
    styles = [unescape(v) for v in re.findall(r'\sstyle="([^"]*)"', html)]
    styles += re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.DOTALL)
    return scripts, styles


@pytest.mark.parametrize("path", ["/", "/check", "/impact"])
def test_every_inline_script_and_style_is_allowed_by_hash(client, path):
    response = client.get(path)
    if response.status_code == 404 and path == "/impact":
        pytest.skip("impact page not available")
    csp = _csp(response)
    scripts, styles = _inline_bits(response.text)
    for script in scripts:
        assert csp_hash(script) in csp["script-src"], script
    for style in styles:
        assert csp_hash(style) in csp["style-src"], style[:80]


def test_page_result_after_post_keeps_headers(client):
    response = client.post("/check", data={})
    assert response.headers["content-security-policy"]
    scripts, styles = _inline_bits(response.text)
    csp = _csp(response)
    assert all(csp_hash(s) in csp["script-src"] for s in scripts)
    assert all(csp_hash(s) in csp["style-src"] for s in styles)


def test_cds_answers_are_json_with_cors_open(client):
    response = client.post(
        "/cds-services/ng126-progesterone",
        json=hook_request("patient-view", prefetch_for(eligible_resources())),
        headers={"Origin": "https://ehr.example.org"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] in ("*", "https://ehr.example.org")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hsts_when_the_public_url_is_https(make_client, tmp_path, issuers_file):
    settings = Settings(
        auth=True,
        issuers_file=str(issuers_file),
        feedback_db=f"sqlite:///{tmp_path / 'f.db'}",
        public_url="https://cds.example.org",
    )
    assert "strict-transport-security" in make_client(settings).get("/").headers
    assert "strict-transport-security" not in make_client().get("/").headers


def test_auth_off_serves_loopback_clients_only(tmp_path):
    app = create_app(
        Settings(auth=False, feedback_db=f"sqlite:///{tmp_path / 'f.db'}"), today=lambda: TODAY
    )
    body = hook_request("patient-view", prefetch_for(eligible_resources()))
    for remote in (("203.0.113.5", 40000), ("10.0.0.8", 40000), ("::ffff:192.0.2.1", 1)):
        with TestClient(app, client=remote) as client:
            response = client.post("/cds-services/ng126-progesterone", json=body)
            assert response.status_code == 403
            assert "loopback only" in response.text
            assert client.get("/").status_code == 403
    for local in (("127.0.0.1", 40000), ("::1", 40000)):
        with TestClient(app, client=local) as client:
            assert client.post("/cds-services/ng126-progesterone", json=body).status_code == 200


def test_auth_on_serves_any_client(tmp_path, issuers_file):
    app = create_app(
        Settings(
            auth=True,
            issuers_file=str(issuers_file),
            feedback_db=f"sqlite:///{tmp_path / 'f.db'}",
            public_url=BASE,
        )
    )
    with TestClient(app, client=("203.0.113.5", 40000)) as client:
        assert client.get("/").status_code == 200
        assert client.get("/cds-services").status_code == 401  # the JWT check, not the rule


def _run_asgi(app, messages):
    sent = []
    queue = list(messages)

    async def receive():
        if queue:
            return queue.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    scope = http_scope(
        "/cds-services/ng126-progesterone",
        [(b"content-type", b"application/json"), (b"content-length", b"50")],
        client=("127.0.0.1", 5000),
        guarded=False,
    )
    run_coroutine(app(scope, receive, send))
    return sent


def test_client_disconnect_mid_body_is_not_an_error(tmp_path, caplog):
    app = create_app(Settings(auth=False, feedback_db=f"sqlite:///{tmp_path / 'f.db'}"))
    caplog.set_level(logging.DEBUG)
    sent = _run_asgi(
        app,
        [
            {"type": "http.request", "body": b'{"hook": ', "more_body": True},
            {"type": "http.disconnect"},
        ],
    )
    assert sent == []  # nobody to answer
    assert "internal error" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_client_disconnect_inside_a_handler_is_logged_as_info(caplog):
    async def handler(scope, receive, send):
        raise ClientDisconnect()

    caplog.set_level(logging.DEBUG)
    assert _run_asgi(QuietErrors(handler), []) == []
    assert "internal error" not in caplog.text
    assert "client disconnected" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_only_the_in_process_test_transport_may_use_its_placeholder_name():
    from earlypath.web.guards import is_loopback_client

    assert is_loopback_client("testclient", "testserver")
    assert not is_loopback_client("testclient", "192.0.2.2")
    assert not is_loopback_client("testclient", None)
    assert not is_loopback_client(None, "127.0.0.1")
    assert is_loopback_client("::1", "::1") and is_loopback_client("127.8.0.1", "127.0.0.1")
    assert not is_loopback_client("192.0.2.9", "127.0.0.1")
