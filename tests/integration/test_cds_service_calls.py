"""CDS service calls are answered by `cds.ServiceCalls` (issue 16): the same handler and client
check as the FastAPI route, without the router; everything else still reaches the router."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for

PV = "/cds-services/ng126-progesterone"


def _without_service_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """The FastAPI service route refuses to run: only ServiceCalls can answer a call."""
    handle = APIRoute.handle

    async def refusing(self: APIRoute, scope: Any, receive: Any, send: Any) -> None:
        assert self.path != "/cds-services/{service_id}", "the router answered a service call"
        await handle(self, scope, receive, send)

    monkeypatch.setattr(APIRoute, "handle", refusing)


def test_a_service_call_is_answered_without_the_router(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_service_route(monkeypatch)
    response = client.post(
        PV, json=hook_request("patient-view", prefetch_for(eligible_resources()))
    )
    assert response.status_code == 200
    assert response.json()["cards"][0]["summary"].startswith("Offer vaginal progesterone")
    # the middlewares outside it still answer: security headers, CORS
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert client.post(PV, json={}).status_code == 400


def test_what_is_not_a_service_call_goes_to_the_router(client: TestClient) -> None:
    body = hook_request("patient-view", prefetch_for(eligible_resources()))
    assert client.post("/cds-services/no-such-service", json=body).status_code == 404
    assert client.get(PV).status_code == 405
    assert client.post(PV + "/", json=body).status_code in (200, 307)


def test_the_client_check_applies_to_service_calls(
    secure_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_service_route(monkeypatch)
    body = hook_request("patient-view", prefetch_for(eligible_resources()))
    response = secure_client.post(PV, json=body)
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["www-authenticate"] == "Bearer"


def test_cds_answers_are_the_bytes_json_dumps_writes(client: TestClient) -> None:
    for resources in (eligible_resources(), eligible_resources()[1:], []):
        body = hook_request("patient-view", prefetch_for(resources))
        response = client.post(PV, json=body)
        assert response.status_code == 200
        data = json.loads(response.content)
        want = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        assert response.content == want
