"""A CDS fuzz (issue 15): real CDS requests for every service, and feedback, mutated at random
(fields deleted, given the wrong type or an odd value, duplicated), never get a server error,
and no card shows raw markup from them. Deterministic (a fixed seed), in-process, bounded.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

from tests.integration.fhir_data import (
    bundle,
    eligible_resources,
    hook_request,
    prefetch_for,
    progesterone_order,
)

REQUESTS = 400
ODD_VALUES: list[Any] = [
    None, True, 0, -1, 10**30, 1e308, 1.5, "", "x", "9999-12-31", "0001-01-01", "2024-02-30",
    "\u0000", "Ｐｅａｎｕｔ", [], {}, [None], {"a": {"b": []}}, "urn:uuid:x", "Patient/../x",
    "http://evil.example/", "a" * 5000, {"resourceType": "Bundle"},
    {"resourceType": "OperationOutcome", "issue": []},
    "<script>alert(1)</script>", "[x](javascript:alert(1))", "![i](https://evil.example/p.png)",
    "<img src=x onerror=alert(1)>",
]  # fmt: skip
RAW_MARKUP = ("<script", "](javascript:", "![", "<img")


def _seeds(services: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    seeds = []
    for service in services:
        context: dict[str, Any] = {}
        if service["hook"] in ("order-sign", "order-select"):
            context["draftOrders"] = bundle([progesterone_order()])
        if service["hook"] == "order-select":
            context["selections"] = ["MedicationRequest/draft-1"]
        body = hook_request(service["hook"], prefetch_for(eligible_resources()), **context)
        seeds.append((f"/cds-services/{service['id']}", body))
    feedback = {
        "feedback": [
            {
                "card": "x",
                "outcome": "overridden",
                "outcomeTimestamp": "2024-03-04T10:00:00Z",
                "overrideReason": {"reason": {"code": "x", "system": "y"}, "userComment": "c"},
            }
        ]
    }
    seeds.append((f"/cds-services/{services[0]['id']}/feedback", feedback))
    return seeds


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict | list):
        for key, child in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _paths(child, (*path, key))


def _mutated(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for _ in range(rng.randint(1, 4)):
        paths = list(_paths(body))[1:]
        if not paths:
            break  # everything deleted
        path = rng.choice(paths)
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        roll = rng.random()
        if roll < 0.25:
            del parent[path[-1]]
        elif roll < 0.85:
            parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
        else:
            parent[path[-1]] = [parent[path[-1]], copy.deepcopy(parent[path[-1]])]
    return body


def test_mutated_cds_requests_never_get_a_server_error(client):
    rng = random.Random(15)
    seeds = _seeds(client.get("/cds-services").json()["services"])
    statuses: dict[int, int] = {}
    for _ in range(REQUESTS):
        url, seed = rng.choice(seeds)
        body = _mutated(seed, rng)
        response = client.post(
            url, content=json.dumps(body), headers={"content-type": "application/json"}
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, json.dumps(body)[:2000]
        if response.status_code == 200 and "cards" in response.json():
            for card in response.json()["cards"]:
                shown = json.dumps({k: v for k, v in card.items() if k != "suggestions"})
                assert not any(markup in shown for markup in RAW_MARKUP), shown[:500]
    # The mutations reach the services' own checks (not all refused at the door) and some still
    # give cards.
    assert statuses.get(200, 0) > REQUESTS // 10
    assert {400, 412, 422} <= set(statuses)
