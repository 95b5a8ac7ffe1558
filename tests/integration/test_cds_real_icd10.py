"""The CDS service on hospital diagnoses coded in ICD-10 only (issue 12, real records;
`tests.records.icd10_shapes`): an ectopic pregnancy or a miscarriage so coded stops an offer, and
a previous miscarriage, recurrent miscarriage or bleeding so coded is read as its SNOMED CT code
is; so are a GP system's Read v2 and CTV3 codes for an ectopic pregnancy, a miscarriage, a
recurrent miscarriage and bleeding in early pregnancy. Before,
each was read as no record: the first two gave an offer."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.fhir.mapping import map_resources
from tests.integration.fhir_data import TODAY, hook_request, prefetch_for
from tests.records.icd10_shapes import (
    BLEEDING,
    ECTOPIC_TODAY,
    LEFT_OUT_PREVIOUS,
    MISCARRIAGE_TODAY,
    PREVIOUS,
    READ_BLEEDING,
    READ_ECTOPIC_TODAY,
    READ_LEFT_OUT_BLEEDING,
    READ_LEFT_OUT_PREVIOUS,
    READ_MISCARRIAGE_TODAY,
    READ_PREVIOUS,
    scanned_today,
    with_bleeding,
    with_diagnosis_today,
    with_previous,
)

PV = "/cds-services/ng126-progesterone"


def _card(client: Any, resources: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(resources)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return card


def test_the_record_without_them_is_an_offer(client):
    assert _card(client, scanned_today())["summary"].startswith("Offer")


@pytest.mark.parametrize("shape", sorted({**ECTOPIC_TODAY, **READ_ECTOPIC_TODAY}))
def test_an_ectopic_pregnancy_coded_in_icd10_only_is_no_offer(client, shape):
    card = _card(client, with_diagnosis_today({**ECTOPIC_TODAY, **READ_ECTOPIC_TODAY}[shape]))
    assert not card["summary"].startswith("Offer")
    assert "ectopic" in card["summary"].lower()


@pytest.mark.parametrize("shape", sorted({**MISCARRIAGE_TODAY, **READ_MISCARRIAGE_TODAY}))
def test_a_miscarriage_coded_in_icd10_only_is_no_offer(client, shape):
    coded = {**MISCARRIAGE_TODAY, **READ_MISCARRIAGE_TODAY}[shape]
    card = _card(client, with_diagnosis_today(coded))
    assert not card["summary"].startswith("Offer")
    assert "miscarriage has been diagnosed" in card["summary"].lower()


@pytest.mark.parametrize("shape", sorted({**PREVIOUS, **READ_PREVIOUS}))
def test_a_previous_miscarriage_coded_in_icd10_only_counts(client, shape):
    coded = {**PREVIOUS, **READ_PREVIOUS}[shape]
    assert _card(client, with_previous(coded))["summary"].startswith("Offer")


@pytest.mark.parametrize("shape", sorted({**BLEEDING, **READ_BLEEDING}))
def test_bleeding_coded_in_icd10_only_counts(client, shape):
    coded = {**BLEEDING, **READ_BLEEDING}[shape]
    assert _card(client, with_bleeding(coded))["summary"].startswith("Offer")


@pytest.mark.parametrize("shape", sorted({**LEFT_OUT_PREVIOUS, **READ_LEFT_OUT_PREVIOUS}))
def test_an_ambiguous_icd10_history_leaves_previous_miscarriages_unknown_never_none(client, shape):
    coded = {**LEFT_OUT_PREVIOUS, **READ_LEFT_OUT_PREVIOUS}[shape]
    card = _card(client, with_previous(coded))
    assert "needs number of previous miscarriages" in card["summary"]


@pytest.mark.parametrize("shape", sorted(READ_LEFT_OUT_BLEEDING))
def test_an_ambiguous_read_haemorrhage_leaves_bleeding_unknown_never_none(client, shape):
    card = _card(client, with_bleeding(READ_LEFT_OUT_BLEEDING[shape]))
    assert "needs whether she has vaginal bleeding" in card["summary"]


@pytest.mark.parametrize("shape", sorted(READ_PREVIOUS))
def test_a_read_recurrent_miscarriage_counts_at_least_two(shape):
    result = map_resources(with_previous(READ_PREVIOUS[shape]), TODAY)
    assert result.episode["previous_miscarriages"] == 2
