"""CDS service calls enter the app's own middlewares directly (`ServiceLaneApp`, issue 16):
FastAPI's outer layers are skipped, and the answer is the one the whole stack gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.telemetry._asgi import NativeTelemetry
from fastapi.testclient import TestClient
from starlette.middleware.errors import ServerErrorMiddleware

from earlypath.web import cds
from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for

PV = "/cds-services/ng126-progesterone"
CALL = hook_request("patient-view", prefetch_for(eligible_resources()))
ORIGIN = {"Origin": "https://ehr.example.org"}


def _paths_through_fastapi_stack(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    outer = ServerErrorMiddleware.__call__

    async def noting(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope["path"])
        await outer(self, scope, receive, send)

    monkeypatch.setattr(ServerErrorMiddleware, "__call__", noting)
    return seen


def test_a_service_call_skips_fastapis_outer_layers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _paths_through_fastapi_stack(monkeypatch)
    assert client.post(PV, json=CALL).status_code == 200
    assert client.get("/cds-services").status_code == 200
    assert client.post("/cds-services/no-such-service", json=CALL).status_code == 404
    assert seen == ["/cds-services", "/cds-services/no-such-service"]


def _answer(client: TestClient, **kwargs: Any) -> tuple[int, dict[str, str], int]:
    response = client.post(PV, **kwargs)
    return response.status_code, dict(response.headers), len(response.content)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": CALL},
        {"json": CALL, "headers": ORIGIN},
        {"json": {}},
        {"content": b"[" * 200 + b"]" * 200, "headers": {"content-type": "application/json"}},
        {"content": b"x" * 2_000_000},
    ],
    ids=["card", "cors", "400", "too-deep", "too-large"],
)
def test_the_lane_answers_as_the_whole_stack(
    make_client: Callable[..., TestClient], kwargs: dict[str, Any]
) -> None:
    """Status, every header (security headers, CORS, length) and the body's length are those of
    the same call through FastAPI's whole stack (the lane closed)."""
    lane = make_client()
    whole = make_client()
    assert lane.app.cds_lane is not None  # type: ignore[attr-defined]
    whole.app.cds_lane = None  # type: ignore[attr-defined]
    assert _answer(lane, **kwargs) == _answer(whole, **kwargs)


def test_an_error_in_a_call_is_still_a_quiet_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("pat-SECRET-4417")

    monkeypatch.setattr(cds, "map_resources", broken)
    response = client.post(PV, json=CALL)
    assert response.status_code == 500
    assert response.json() == {"errors": [{"field": "(server)", "message": "internal error"}]}
    assert response.headers["x-frame-options"] == "DENY"
    assert "SECRET" not in caplog.text


def test_no_lane_when_fastapi_telemetry_is_on(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(NativeTelemetry, "enabled", lambda self: True)
    app = make_client().app
    assert app.cds_lane is None  # type: ignore[attr-defined]
    assert app.open_cds_lane() is False  # type: ignore[attr-defined]
