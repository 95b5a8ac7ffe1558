"""A CDS call's body is parsed once: `RequestLimits` parses a body with more brackets than the
nesting limit (any real record) to measure it, and the service reads that value instead of
parsing the same bytes again (docs/speed-cds.md)."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from earlypath.web.cds import parse_json
from tests.integration.fhir_data import (
    PATIENT_ID,
    crl,
    eligible_resources,
    hook_request,
    prefetch_for,
)

PV = "/cds-services/ng126-progesterone"
_UUID = re.compile(rb'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')


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


@pytest.mark.parametrize(
    "where",
    ["crl", "patient_id", "string", "none"],
)
def test_a_call_answers_alike_with_either_long_number_check(
    where: str, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The C pass `make install` builds (`digit_runs`) and the Python pass give the same
    answer, byte for byte, where orjson alone would read the body otherwise (a CRL of 10^22 mm
    as a float; a patient id of 20 digits: the same error naming the field)."""
    from earlypath.web import cds, digit_runs

    resources = eligible_resources() + [_weight(n) for n in range(20)]
    if where == "crl":
        resources[-21] = crl(12345678901234567890123)
    request = hook_request("patient-view", prefetch_for(resources))
    if where == "patient_id":
        request["context"]["patientId"] = 12345678901234567890
    if where == "string":
        request["hookInstance"] = "1234567890123456789012"
    body = json.dumps(request).encode()
    assert digit_runs.python_has_long_digit_run(body) is (where != "none")
    answers = []
    for check in (digit_runs.has_long_digit_run, digit_runs.python_has_long_digit_run):
        monkeypatch.setattr(cds, "has_long_digit_run", check)
        response = client.post(PV, content=body, headers={"Content-Type": "application/json"})
        # the uuids (cards, suggestions, the draft order's id) are new on every call
        answers.append((response.status_code, _UUID.sub(b"U", response.content)))
    assert answers[0] == answers[1]
    if where == "patient_id":
        assert answers[0][0] == 400 and b"context.patientId" in answers[0][1]
