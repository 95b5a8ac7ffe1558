"""Property-based tests of the JSON API against its own OpenAPI document (schemathesis).

Bounded: a few dozen generated requests per operation and mode, no deadline, in-process ASGI.
"""

from __future__ import annotations

import datetime as dt

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from earlypath.web import create_app
from earlypath.web.config import Settings


def _schema(mode: GenerationMode):
    app = create_app(
        Settings(auth=False, feedback_db="sqlite://"), today=lambda: dt.date(2024, 3, 4)
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(modes=[mode], max_examples=40)
    return schema.include(path_regex="^/api/")


positive = _schema(GenerationMode.POSITIVE)
negative = _schema(GenerationMode.NEGATIVE)


@positive.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_valid_requests_get_documented_responses(case):
    """Every schema-valid request: 200 with an Assessment or a documented 422, never a 5xx.

    A schema-valid episode may still be impossible (a scan after assessed_on, a miscarriage type
    with no miscarriage): JSON Schema cannot state those cross-field rules, so a 422 is allowed.
    """
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


@negative.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_schema_violating_requests_are_rejected(case):
    case.call_and_validate()


def test_booleans_are_not_millimetres():
    from fastapi.testclient import TestClient

    app = create_app(Settings(auth=False, feedback_db="sqlite://"))
    body = '{"assessed_on": "2024-03-04", "scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": true}]}'
    assert TestClient(app).post("/api/assess", content=body).status_code == 422
