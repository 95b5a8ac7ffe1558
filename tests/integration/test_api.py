"""The JSON API: /api/assess is the CLI's `assess` over HTTP; 422 names fields; schema; OpenAPI."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from typer.testing import CliRunner

from earlypath import episode_json_schema
from earlypath.cli import app as cli_app

EXAMPLES = sorted(
    p.name
    for p in (resources.files("earlypath") / "examples").iterdir()
    if p.name.endswith(".json")
)


def _example(name: str) -> str:
    return (resources.files("earlypath") / "examples" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", EXAMPLES)
def test_assess_returns_exactly_what_the_cli_prints(client, tmp_path, name):
    path = tmp_path / name
    path.write_text(_example(name))
    printed = CliRunner().invoke(cli_app, ["assess", str(path)])
    assert printed.exit_code == 0
    response = client.post(
        "/api/assess", content=_example(name), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.text == printed.stdout


def test_stop_at_policy_matches_cli(client, tmp_path):
    path = tmp_path / "e.json"
    path.write_text(_example("01-eligible-offer.json"))
    printed = CliRunner().invoke(cli_app, ["assess", str(path), "--stop-at", "16+6"])
    response = client.post("/api/assess?stop_at=16%2B6", content=_example("01-eligible-offer.json"))
    assert response.text == printed.stdout
    assert json.loads(response.text)["policy"]["stop_at"]["value"] == "16+6"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"assessed_on": "2024-03-04", "lmp": "2024-05-01"}', "lmp"),
        ('{"assessed_on": "2024-03-04", "previous_miscarriage": 1}', "previous_miscarriage"),
        (
            '{"assessed_on": "2024-03-04", "scans": [{"date": "2024-03-05", "location": "intrauterine"}]}',
            "scans[0].date",
        ),
        ('{"lmp": "2024-01-01"}', "assessed_on"),
        ('{"assessed_on": "2024-03-04", "vaginal_bleeding": "yes"}', "vaginal_bleeding"),
        ('{"assessed_on": "2024-03-04", "guideline_version": "1999-01-01"}', "guideline_version"),
    ],
)
def test_invalid_episode_is_422_with_field_paths(client, body, field):
    response = client.post("/api/assess", content=body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(e["field"] == field for e in errors), errors
    assert all(set(e) == {"field", "message"} for e in errors)


@pytest.mark.parametrize("body", ["{not json", "", "[]", "42", '"text"'])
def test_malformed_json_is_422(client, body):
    response = client.post("/api/assess", content=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "(episode)"


def test_bad_policy_is_422(client):
    response = client.post("/api/assess?stop_at=17%2B0", content=_example("01-eligible-offer.json"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "stop_at"


def test_schema_is_the_input_contract(client):
    response = client.get("/api/schema")
    assert response.status_code == 200
    assert response.json() == episode_json_schema()


def test_openapi_declares_request_and_response_schemas(client):
    doc = client.get("/openapi.json").json()
    op = doc["paths"]["/api/assess"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Episode"
    }
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Assessment"
    }
    assert op["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Errors"
    }
    schemas = doc["components"]["schemas"]
    # Every reference in the document resolves inside it.
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in schemas, ref
    assert "$defs" not in json.dumps(schemas["Episode"])
    assert set(schemas["Episode"]["properties"]) == set(episode_json_schema()["properties"])


def test_docs_page_is_served(client):
    assert client.get("/docs").status_code == 200
