"""The CDS service on results shaped as lab systems send them: a negative pregnancy test coded
with a LOINC answer, "not detected", or written as words is read as "not pregnant" (it ends the
pregnancy before it), as the SNOMED-coded negative always was; codes under their system's OID are read as under its
URI."""

from __future__ import annotations

import pytest

from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for
from tests.records.real_shapes import (
    LOCAL_FIRST,
    NEGATIVE_TESTS,
    UNREADABLE_TESTS,
    YES_NO,
    bleeding_answered,
    bleeding_with_status,
    ectopic_today,
    ended_then_scanned,
    pregnancy_test,
    with_oid_systems,
)

PV = "/cds-services/ng126-progesterone"


def _summaries(client, resources) -> list[str]:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(resources)))
    assert response.status_code == 200, response.text
    return [card["summary"] for card in response.json()["cards"]]


@pytest.mark.parametrize("shape", sorted(NEGATIVE_TESTS))
def test_a_negative_test_as_labs_write_it_ends_the_pregnancy_before_it(client, shape):
    test = pregnancy_test(*NEGATIVE_TESTS[shape])
    (summary,) = _summaries(client, ended_then_scanned(test))
    assert not summary.startswith("Offer")
    assert "gestational age" in summary


@pytest.mark.parametrize("shape", sorted(UNREADABLE_TESTS))
def test_a_test_result_that_says_nothing_ends_nothing(client, shape):
    test = pregnancy_test(*UNREADABLE_TESTS[shape])
    (summary,) = _summaries(client, ended_then_scanned(test))
    assert summary.startswith("Offer")


@pytest.mark.parametrize("shape", sorted(NEGATIVE_TESTS))
def test_a_negative_test_alone_is_no_pregnancy(client, shape):
    assert _summaries(client, [pregnancy_test(*NEGATIVE_TESTS[shape])]) == []


def test_a_record_coded_with_oid_systems_is_read_as_with_their_uris(client):
    resources = [with_oid_systems(r) for r in eligible_resources()]
    (summary,) = _summaries(client, resources)
    assert summary.startswith("Offer")


def test_an_ectopic_coded_with_the_snomed_oid_is_no_offer(client):
    resources = [*eligible_resources(), with_oid_systems(ectopic_today())]
    (summary,) = _summaries(client, resources)
    assert not summary.startswith("Offer")
    assert "ectopic" in summary


EXPECTED_SUMMARY = {"offer": "Offer", "do_not_offer": "Progesterone not recommended"}


@pytest.mark.parametrize("shape", sorted(YES_NO))
def test_a_yes_or_no_answer_is_read_as_true_or_false(client, shape):
    answer, expected = YES_NO[shape]
    (summary,) = _summaries(client, bleeding_answered(answer))
    assert summary.startswith(EXPECTED_SUMMARY[expected])


@pytest.mark.parametrize("shape", sorted(LOCAL_FIRST))
def test_a_status_after_a_local_coding_is_read(client, shape):
    element, status, expected = LOCAL_FIRST[shape]
    (summary,) = _summaries(client, bleeding_with_status(element, status))
    if expected == "needs_information":
        assert "needs whether she has vaginal bleeding" in summary
    else:
        assert summary.startswith(EXPECTED_SUMMARY[expected])
