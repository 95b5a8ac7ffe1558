"""Helpers for the safe-reading CDS tests: a fake FHIR server, Bundles with pages, outcomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.integration.fhir_data import PATIENT_ID, bundle, hook_request, prefetch_for

PV = "/cds-services/ng126-progesterone"
SIGN = "/cds-services/ng126-progesterone-order-sign"
FHIR = "https://ehr.example.org/fhir"
TOKEN = "tok-SECRET-5521"
OTHER_PATIENT = "other-PATIENT-8810"


def with_server(body: dict[str, Any], server: str = FHIR) -> dict[str, Any]:
    body["fhirServer"] = server
    body["fhirAuthorization"] = {
        "access_token": TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "earlypath",
    }
    return body


def page(resources: list[dict[str, Any]], next_url: str | None = None, **extra: Any) -> dict:
    """A searchset Bundle page, as servers write them: fullUrl, search mode, self/next links."""
    out = bundle([])
    out["entry"] = [
        {
            "fullUrl": f"{FHIR}/{r['resourceType']}/{r.get('id', 'x')}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in resources
    ]
    out["link"] = [{"relation": "self", "url": f"{FHIR}/Condition?patient={PATIENT_ID}"}]
    if next_url:
        out["link"].append({"relation": "next", "url": next_url})
    out.update(extra)
    return out


def outcome(severity: str = "error", code: str = "exception") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": "search failed"}],
    }


class FakeFhir:
    """A FHIR server on an httpx MockTransport: answers by URL, records every request."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response] | None = None):
        self.seen: list[httpx.Request] = []
        self.pages: dict[str, dict[str, Any]] = {}
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        self.answer = answer

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.answer is not None:
            return self.answer(request)
        url = str(request.url)
        if url in self.pages:
            return httpx.Response(200, json=self.pages[url])
        kind = request.url.path.rsplit("/", 1)[-1]
        if request.url.path.endswith(f"/Patient/{PATIENT_ID}"):
            return httpx.Response(200, json={"resourceType": "Patient", "id": PATIENT_ID})
        return httpx.Response(200, json=bundle(self.by_type.get(kind, [])))

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


def patient_view(resources: list[dict[str, Any]], **keys: Any) -> dict[str, Any]:
    """A patient-view call with everything prefetched, some keys replaced."""
    prefetch = prefetch_for(resources)
    prefetch.update(keys)
    return hook_request("patient-view", prefetch)


def decision(response: httpx.Response) -> str:
    """'offer', 'other' (a card that is not an offer), 'none' (no card) or the refusal status."""
    if response.status_code != 200:
        return str(response.status_code)
    cards = response.json()["cards"]
    if not cards:
        return "none"
    return "offer" if any(c["summary"].startswith("Offer") for c in cards) else "other"
