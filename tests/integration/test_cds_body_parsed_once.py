"""A CDS call's body is parsed once: `RequestLimits` parses a body with more brackets than the
nesting limit (any real record) to measure it, and the service reads that value instead of
parsing the same bytes again (docs/speed-cds.md)."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from earlypath.web.cds import parse_json
from tests.integration.fhir_data import PATIENT_ID, eligible_resources, hook_request, prefetch_for

PV = "/cds-services/ng126-progesterone"


def _weight(n: int) -> dict[str, Any]:
    """An Observation the reading leaves out, as a record sent whole holds many of."""
    return {
        "resourceType": "Observation",
        "id": f"weight-{n}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "valueQuantity": {"value": 70, "unit": "kg"},
    }


def test_a_record_sent_whole_is_parsed_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = eligible_resources() + [_weight(n) for n in range(50)]
    body = json.dumps(hook_request("patient-view", prefetch_for(resources))).encode()
    assert body.count(b"[") + body.count(b"{") > 64  # measured by RequestLimits
    parses: list[int] = []
    loads = orjson.loads

    def counted(raw: Any) -> Any:
        parses.append(len(raw))
        return loads(raw)

    monkeypatch.setattr(orjson, "loads", counted)
    response = client.post(PV, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json()["cards"][0]["summary"].startswith("Offer vaginal progesterone")
    assert parses == [len(body)]


def test_a_value_parsed_before_is_not_used_for_a_very_long_integer() -> None:
    # orjson reads an integer beyond 64 bits otherwise than json.loads: the text decides
    raw = b'{"n": 123456789012345678901234567890, "a": [[1]]}'
    assert parse_json(raw, orjson.loads(raw)) == json.loads(raw)
    assert type(parse_json(raw, orjson.loads(raw))["n"]) is int
    plain = b'{"a": [[1]]}'
    handed = orjson.loads(plain)
    assert parse_json(plain, handed) is handed
