"""A CDS service call's middlewares run fused into one layer (`earlypath.web.cds_lane`,
issue 16): every answer, byte for byte in its status and header list, is the one the same
middlewares give as separate layers, and the one FastAPI's whole stack gives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from earlypath.web import cds
from earlypath.web.cds_lane import FusedCdsLane
from earlypath.web.config import Settings
from tests.integration.asgi_scope import LOOPBACK, body_once, http_scope
from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for

PV = "/cds-services/ng126-progesterone"
CALL = json.dumps(hook_request("patient-view", prefetch_for(eligible_resources()))).encode()
JSON = [(b"content-type", b"application/json")]
ORIGIN = [(b"origin", b"https://ehr.example.org")]


def _call(
    app: Any, body: bytes, headers: list[tuple[bytes, bytes]], client: tuple[str, int]
) -> list[dict[str, Any]]:
    """The messages the app sends for one POST to the service (in order, as sent)."""
    scope = http_scope(PV, [(b"host", b"127.0.0.1:8000"), *headers], client=client)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    _run_on_its_own_loop(app(scope, body_once(body), send))
    return sent


def _run_on_its_own_loop(call: Any) -> None:
    """Run one ASGI call to its end on a fresh loop in a thread of its own.

    Not `asyncio.run` here: Playwright's sync API (the session-scoped browser of
    tests/browser) keeps its loop marked running in the test thread until the session
    ends, so when xdist gives a worker a browser test before these, `asyncio.run`
    refuses ("cannot be called from a running event loop")."""
    with ThreadPoolExecutor(max_workers=1) as own:
        own.submit(asyncio.run, call).result()


def _answer(messages: list[dict[str, Any]]) -> tuple[Any, ...]:
    start, *bodies = messages
    body = b"".join(m.get("body", b"") for m in bodies)
    # a card's body holds fresh UUIDs: its length is compared; an error's body whole
    return start["status"], list(start["headers"]), body if start["status"] != 200 else len(body)


@pytest.fixture
def three_ways(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> Callable[..., list[tuple[Any, ...]]]:
    """One call answered by the fused lane, by the middlewares as layers (the lane entering
    the outermost), and by FastAPI's whole stack (no lane)."""

    def answers(
        body: bytes,
        headers: list[tuple[bytes, bytes]],
        client: tuple[str, int] = LOOPBACK,
        **kw: Any,
    ) -> list[tuple[Any, ...]]:
        apps = [make_client(**kw).app for _ in range(3)]
        fused, layered, whole = apps
        assert type(fused.cds_lane) is FusedCdsLane  # type: ignore[attr-defined]
        layered.cds_lane = fused.cds_lane.app  # type: ignore[attr-defined]
        whole.cds_lane = None  # type: ignore[attr-defined]
        return [_answer(_call(app, body, headers, client)) for app in apps]

    return answers


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (CALL, JSON),
        (CALL, JSON + ORIGIN),
        (b"{}", JSON + ORIGIN),
        (b"not json", JSON),
        (b"[" * 200 + b"]" * 200, JSON + ORIGIN),
        (CALL, [*JSON, (b"content-length", b"999999999")]),
        (CALL, [*JSON, (b"content-length", b"12x")]),
    ],
    ids=["card", "cors", "400", "not-json", "too-deep", "too-large", "bad-length"],
)
def test_the_fused_lane_answers_as_the_layers(
    three_ways: Callable[..., list[tuple[Any, ...]]],
    body: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    fused, layered, whole = three_ways(body, headers)
    assert fused == layered == whole


def test_a_peer_off_this_machine_is_refused_as_by_the_layers(
    three_ways: Callable[..., list[tuple[Any, ...]]],
) -> None:
    fused, layered, whole = three_ways(CALL, JSON + ORIGIN, client=("10.1.2.3", 50000))
    assert fused[0] == 403
    assert fused == layered == whole


def test_https_headers_as_by_the_layers(
    make_client: Callable[..., TestClient],
    tmp_path: Path,
    three_ways: Callable[..., list[tuple[Any, ...]]],
) -> None:
    settings = Settings(
        auth=False,
        feedback_db=f"sqlite:///{tmp_path / 'fb.sqlite3'}",
        public_url="https://earlypath.example.org",
    )
    fused, layered, whole = three_ways(CALL, JSON + ORIGIN, settings=settings)
    assert (b"strict-transport-security", b"max-age=31536000") in fused[1]
    assert fused == layered == whole


def test_an_error_in_the_call_is_the_layers_quiet_500(
    three_ways: Callable[..., list[tuple[Any, ...]]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("pat-SECRET-4417")

    monkeypatch.setattr(cds, "map_resources", broken)
    fused, layered, whole = three_ways(CALL, JSON + ORIGIN)
    assert fused[0] == 500
    assert fused == layered == whole
    assert "SECRET" not in caplog.text
    assert caplog.text.count("internal error (RuntimeError)") == 3


def test_no_fused_lane_for_another_stack(make_client: Callable[..., TestClient]) -> None:
    """A stack that is not the usual one (here without CORS) is entered at its outermost."""
    from earlypath.web.cds_lane import fuse
    from earlypath.web.cors import ServiceCORS

    app = make_client().app
    outermost = app.cds_lane.app  # type: ignore[attr-defined]
    layer = outermost
    while type(layer.app) is not ServiceCORS:
        layer = layer.app
    assert fuse(outermost) is not None
    layer.app = layer.app.app  # CORS taken out
    assert fuse(outermost) is None


def test_an_answer_setting_those_headers_itself_as_by_the_layers(
    three_ways: Callable[..., list[tuple[Any, ...]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer naming headers the layers write (Vary, Cache-Control) is written header by
    header, as the layers do, not by the usual tail."""

    async def answer(*args: Any) -> Any:
        return JSONResponse({"cards": []}, headers={"Vary": "Accept", "Cache-Control": "private"})

    monkeypatch.setattr(cds, "answer_call", answer)
    fused, layered, whole = three_ways(CALL, JSON + ORIGIN)
    assert (b"vary", b"Accept, Origin") in fused[1]
    assert (b"cache-control", b"private") in fused[1]
    assert fused == layered == whole
