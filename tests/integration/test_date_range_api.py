"""A date past the contract's range is a 422 naming the field and the bound, not a 500."""

from __future__ import annotations

import json

import pytest

from earlypath.model.episode import DATE_RANGE_MESSAGE


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"assessed_on": "9999-12-31"}, "assessed_on"),
        ({"assessed_on": "2024-03-04", "lmp": "1899-12-31"}, "lmp"),
        (
            {
                "assessed_on": "2024-03-04",
                "hcg": [{"taken_at": "0001-01-01T00:00:00", "iu_per_l": 10}],
            },
            "hcg[0].taken_at",
        ),
    ],
)
def test_date_out_of_range_is_422(client, body, field):
    response = client.post("/api/assess", content=json.dumps(body))
    assert response.status_code == 422
    assert {"field": field, "message": DATE_RANGE_MESSAGE} in response.json()["errors"]


def test_far_date_with_an_offer_is_422_not_500(client):
    body = {
        "assessed_on": "9999-12-31",
        "guideline_version": "2023-08-23",
        "previous_miscarriages": 1,
        "vaginal_bleeding": True,
        "scans": [
            {
                "date": "9999-12-31",
                "location": "intrauterine",
                "fetal_pole": True,
                "fetal_heartbeat": True,
                "crl_mm": 9.5,
            }
        ],
    }
    response = client.post("/api/assess", content=json.dumps(body))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"assessed_on", "scans[0].date"}
