"""`earlypath.fhir.mapping` flattening of resources and Bundles: order, problems, and cost
linear in the record (a CDS call may prefetch hundreds of Observations)."""

from __future__ import annotations

import random
import time
from typing import Any

from earlypath.errors import Problem
from earlypath.fhir.mapping import _flatten, flatten


def _reference(items: Any, problems: list[Problem]) -> list[dict[str, Any]]:
    """The order the reading has always used: depth first, a Bundle's entries where it stands."""
    out: list[dict[str, Any]] = []
    for item in items if isinstance(items, list | tuple) else [items]:
        if not isinstance(item, dict):
            problems.append(Problem("Resource/(no id)", "is not a JSON object; ignored"))
        elif item.get("resourceType") == "Bundle":
            entries = item.get("entry")
            listed = entries if isinstance(entries, list) else []
            inner = [e.get("resource") for e in listed if isinstance(e, dict)]
            out += _reference([r for r in inner if r is not None], problems)
        else:
            out.append(item)
    return out


def _random_item(rng: random.Random, depth: int, counter: list[int]) -> Any:
    roll = rng.random()
    if depth < 4 and roll < 0.3:
        entries: list[Any] = []
        for _ in range(rng.randint(0, 4)):
            kind = rng.random()
            if kind < 0.1:
                entries.append("not an entry")
            elif kind < 0.2:
                entries.append({"fullUrl": "urn:uuid:x"})  # no resource
            else:
                entries.append({"resource": _random_item(rng, depth + 1, counter)})
        bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
        if rng.random() < 0.9:
            bundle["entry"] = entries
        else:
            bundle["entry"] = "not a list"
        return bundle
    if roll < 0.4:
        return rng.choice([1, "text", None, ["a list"]])
    counter[0] += 1
    return {"resourceType": "Observation", "id": str(counter[0])}


def test_flatten_keeps_the_order_and_the_problems_of_the_reference() -> None:
    rng = random.Random(126)
    for _ in range(500):
        counter = [0]
        items = [_random_item(rng, 0, counter) for _ in range(rng.randint(0, 6))]
        given = items if rng.random() < 0.8 else items[0] if items else {}
        want_problems: list[Problem] = []
        got_problems: list[Problem] = []
        assert _flatten(given, got_problems) == _reference(given, want_problems)
        assert got_problems == want_problems
        assert flatten(given) == _reference(given, [])


def test_flatten_reads_deeply_nested_bundles() -> None:
    inner: dict[str, Any] = {"resourceType": "Condition", "id": "deep"}
    for _ in range(5_000):  # deeper than Python's recursion limit
        inner = {"resourceType": "Bundle", "entry": [{"resource": inner}]}
    assert flatten([inner]) == [{"resourceType": "Condition", "id": "deep"}]


def test_flatten_is_linear_in_the_record() -> None:
    # 200k entries: about 0.05 s in one pass; taking each from the front of a list (as before)
    # took about 1.5 s
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "Observation", "id": str(n)}} for n in range(200_000)
        ],
    }
    start = time.process_time()
    out = flatten([bundle])
    assert time.process_time() - start < 0.5
    assert len(out) == 200_000
