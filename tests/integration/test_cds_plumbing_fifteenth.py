"""The CDS call's plumbing after its fifteenth pass (issue 16): the same answers, less work.

- a call with no draft orders (every patient-view call) does not walk them for the patient scope;
- the merge check loops over the prefetch once, with no call per resource;
- the allergy check reads the prefetch's opened resources as they are (no copy);
- the card detail's kept text is found by one hash of its key;
- the one-pass prefetch read does not walk an empty page for the patient scope.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from earlypath.engines.python import assess_for_cards
from earlypath.fhir import cards, merged
from earlypath.fhir.mapping import OpenedResources, flatten
from earlypath.web import allergy_check, cds, prefetch
from earlypath.web.allergy_check import NOT_ALLERGIES, NOT_CURRENT, unchecked_reason
from tests.integration.fhir_data import (
    PATIENT_ID,
    bundle,
    eligible_resources,
    hook_request,
    prefetch_for,
)

SERVICE = "/cds-services/ng126-progesterone"


def test_no_draft_orders_are_not_walked(client: TestClient, monkeypatch: Any) -> None:
    """Nothing to walk when the call has no draft orders: the scope check is not called for
    them (it would find no problem in nothing); the card is the same."""
    request = hook_request("patient-view", prefetch_for(eligible_resources()))
    expected = client.post(SERVICE, json=request).json()
    walked = cds.scope_problem

    def scope_problem(data: Any, patient_id: str, *args: Any) -> Any:
        assert data is not None, "the absent draft orders were walked"
        return walked(data, patient_id, *args)

    monkeypatch.setattr(cds, "scope_problem", scope_problem)
    answer = client.post(SERVICE, json=request)
    assert answer.status_code == 200
    for card, before in zip(answer.json()["cards"], expected["cards"], strict=True):
        card.pop("uuid"), before.pop("uuid")
        for suggestion, was in zip(card["suggestions"], before["suggestions"], strict=True):
            suggestion.pop("uuid"), was.pop("uuid")
            suggestion["actions"][0]["resource"].pop("id", None)
            was["actions"][0]["resource"].pop("id", None)
        assert card == before


def test_draft_orders_given_are_still_checked(client: TestClient) -> None:
    """A draft order for another patient still refuses the call (422, nothing decided)."""
    order = {
        "resourceType": "MedicationRequest",
        "id": "d1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/someone-else"},
        "medicationCodeableConcept": {"text": "progesterone"},
    }
    request = hook_request(
        "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
    )
    answer = client.post("/cds-services/ng126-progesterone-order-sign", json=request)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "context.draftOrders"


def _may_link(resource: Any) -> bool:
    """The per-item definition the one loop replaced."""
    if type(resource) is not dict:
        return False
    kind = resource.get("resourceType")
    return kind == "Bundle" or (kind == "Patient" and "link" in resource)


_ITEMS: list[Any] = [
    None,
    "Patient",
    ["a list"],
    {"resourceType": "Patient", "id": PATIENT_ID},
    {"resourceType": "Patient", "id": PATIENT_ID, "link": []},
    {"resourceType": "Patient", "id": "other", "link": [{"type": "replaces"}]},
    {"resourceType": "Bundle", "entry": []},
    {"resourceType": "Observation", "link": []},
    {"resourceType": ["Patient"], "link": []},
    {"link": []},
]


@pytest.mark.parametrize("first", range(len(_ITEMS)))
def test_the_merge_check_is_one_loop(first: int) -> None:
    """`_any_may_link` answers as `any(_may_link(r) ...)` did, on every pair of items."""
    for second in _ITEMS:
        resources = [_ITEMS[first], second]
        assert merged._any_may_link(resources) is any(_may_link(r) for r in resources)
    assert merged._any_may_link([]) is False


def _allergy(verification: str | None, clinical: str | None, named: bool) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91935009"}]},
    }
    if named:
        resource["code"]["text"] = "peanut"
    for name, code in (("verificationStatus", verification), ("clinicalStatus", clinical)):
        if code is not None:
            resource[name] = {"coding": [{"code": code}]}
    return resource


def _reference_count(resources: Any) -> int:
    """The count as written before: a generator over `flatten`'s copy, summed."""
    return sum(
        1
        for r in flatten(resources)
        if r.get("resourceType") == "AllergyIntolerance"
        and allergy_check._status(r, "verificationStatus") not in NOT_ALLERGIES
        and allergy_check._status(r, "clinicalStatus") not in NOT_CURRENT
        and not allergy_check._named(r)
    )


_STATUSES = [None, "confirmed", *NOT_ALLERGIES]
_CLINICAL = [None, "active", *NOT_CURRENT]


def test_the_allergy_check_reads_opened_resources_as_they_are(monkeypatch: Any) -> None:
    """The same count and reason as the generator over a copy, on every status x name, without
    `flatten` for the opened prefetch; a plain list is still flattened (its Bundles opened)."""
    allergies = [
        _allergy(v, c, named) for v in _STATUSES for c in _CLINICAL for named in (False, True)
    ]
    records = [[], allergies, [*eligible_resources(), *allergies[:5]], allergies[3:4]]
    expected = [(_reference_count(r), unchecked_reason([], r)) for r in records]
    as_bundle = [bundle(allergies)]
    bundled = (_reference_count(as_bundle), unchecked_reason([], as_bundle))

    def no_copy(*args: Any) -> Any:
        raise AssertionError("the opened resources were copied")

    with monkeypatch.context() as m:
        m.setattr(allergy_check, "flatten", no_copy)
        for resources, (count, reason) in zip(records, expected, strict=True):
            opened = OpenedResources(resources)
            assert allergy_check.unreadable_allergies(opened) == count
            assert unchecked_reason([], opened) == reason
    assert expected[1][0] > 0  # the unnamed current allergies are counted
    assert unchecked_reason([], as_bundle) == bundled[1] and bundled[0] == expected[1][0]


class _CountedText(str):
    """Text that counts how often it is hashed."""

    hashed = 0

    def __hash__(self) -> int:
        type(self).hashed += 1
        return str.__hash__(self)


def test_the_kept_detail_is_found_by_one_hash() -> None:
    """The card detail's key is hashed once to find its kept text (it was hashed twice: once to
    test it could be, once to look it up); the text is the same."""
    episode = {
        "assessed_on": "2024-03-04",
        "previous_miscarriages": 1,
        "vaginal_bleeding": True,
        "lmp": "2024-01-15",
        "scans": [{"date": "2024-03-04", "location": "intrauterine", "crl_mm": 9.5}],
    }
    assessment = assess_for_cards(episode)
    afresh = "\n".join(cards._engine_lines(assessment))
    assessment["progesterone"]["decision"] = _CountedText(assessment["progesterone"]["decision"])
    assert cards._engine_detail(assessment) == afresh  # written, or found
    _CountedText.hashed = 0
    assert cards._engine_detail(assessment) == afresh  # found
    assert _CountedText.hashed == 1


def test_an_empty_page_is_not_walked_for_the_scope(monkeypatch: Any) -> None:
    """The one-pass prefetch read walks only the pages that hold resources for the patient
    scope (an empty page has nothing to tie to her); the same resources, in the same order."""
    request = hook_request("patient-view", prefetch_for(eligible_resources()))
    assert any(not v.get("entry") for v in request["prefetch"].values() if v)
    expected = prefetch.read_prefetched(cds.PREFETCH, request)
    walked = prefetch.walked_problem

    def walked_problem(resources: Any, *args: Any) -> Any:
        assert resources, "an empty page was walked"
        return walked(resources, *args)

    monkeypatch.setattr(prefetch, "walked_problem", walked_problem)
    got = prefetch.read_prefetched(cds.PREFETCH, request)
    assert expected is not None and got == expected and type(got) is type(expected)
