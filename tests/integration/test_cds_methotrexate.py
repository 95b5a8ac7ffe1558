"""A past methotrexate for an ectopic pregnancy reaches the CDS card (issue 12; HAZ-15 C15.5;
NG126 1.6, 1.3), stop 37.

The one record reading reads a methotrexate prescribed, taken or given for an ectopic pregnancy as
a previous ectopic (stop 33), its medicine named by an exported Medication too (stop 36). The
audit read it; the card was never sent it: the prefetch asked for MedicationRequests of current
statuses only (a methotrexate of 2019 is completed), for no Medication a request names, and for no
MedicationAdministration. Now each medicines search asks for every status the reading reads and
`_include`s the Medications its records name (FHIR R4: in the Bundle with search.mode "include",
no patient of their own), and the doses given her are an optional key of their own.

Through the real ASGI app: the previous ectopic shows under the card's "Data used", named by the
record it came from. An EHR that ignores `_include`, or sends the old statuses, gets an answer in
which the previous ectopic is unknown, never "none".
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from earlypath.fhir.codes import status_list
from earlypath.web.cds import REQUIRED
from tests.integration.cds_reading import FHIR, FakeFhir, with_server
from tests.integration.fhir_data import PATIENT_ID, hook_request, prefetch_for
from tests.records.previous_ectopic_shapes import bleeding_under_six_weeks
from tests.records.previous_history_shapes import (
    DMD,
    METHOTREXATE_RXNORM_INJECTABLE,
    METHOTREXATE_RXNORM_OTREXUP,
    METOJECT_AMP,
    PROGESTERONE_PESSARIES,
    RXNORM,
    bare_code,
    by_reference,
    medication,
    methotrexate,
)

PV = "/cds-services/ng126-progesterone"
MEDICINES = {
    "medications": "MedicationRequest",
    "statements": "MedicationStatement",
    "administrations": "MedicationAdministration",
}


def _exported(resource: str = "MedicationRequest") -> dict[str, Any]:
    """Methotrexate completed in 2019 for a tubal pregnancy, its medicine `Medication/mtx1`."""
    return by_reference(methotrexate("x1", resource), {"reference": "Medication/mtx1"})


def _search(matches: list[dict[str, Any]], included: list[dict[str, Any]]) -> dict[str, Any]:
    """A searchset Bundle as a server answers an `_include` search: the matches, then the
    resources they name (search.mode "include")."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(matches),
        "entry": [
            {
                "fullUrl": f"{FHIR}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": mode},
            }
            for mode, rs in (("match", matches), ("include", included))
            for r in rs
        ],
    }


def _call(key: str, matches: list[dict[str, Any]], included: list[dict[str, Any]]) -> dict:
    prefetch = prefetch_for(bleeding_under_six_weeks())
    prefetch[key] = _search(matches, included)
    return hook_request("patient-view", prefetch)


def _ectopic_used(response: httpx.Response) -> list[str]:
    """The card's "Data used" lines about an ectopic pregnancy."""
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    used = card["detail"].split("**Data used**")[1].split("**Data that could not be used**")[0]
    return [line for line in used.splitlines() if "ectopic" in line.lower()]


def _without_uuids(response: httpx.Response) -> list[dict[str, Any]]:
    return [{k: v for k, v in card.items() if k != "uuid"} for card in response.json()["cards"]]


def test_each_medicines_search_asks_for_every_status_read_and_its_medications(client):
    for service in client.get("/cds-services").json()["services"]:
        prefetch = service["prefetch"]
        for key, resource in MEDICINES.items():
            template = prefetch[key]
            assert template.startswith(f"{resource}?patient={{{{context.patientId}}}}"), key
            assert f"&_include={resource}:medication" in template, key
        # a request in the statuses of care given (completed: a methotrexate of 2019) as well as
        # the current ones; a statement in every status; a dose in those showing it was given
        requests = prefetch["medications"].split("status=")[1].split("&")[0].split(",")
        assert set(requests) == (
            status_list("active_medication_status")
            | status_list("unknown_medication_status")
            | status_list("care_given_request_status")
        )
        assert "status=" not in prefetch["statements"]
        given = prefetch["administrations"].split("status=")[1].split("&")[0].split(",")
        assert set(given) == status_list("care_given_administration_status")
    # a dose says "yes" only (a previous ectopic): optional, as her procedures are
    assert "administrations" not in REQUIRED


@pytest.mark.parametrize("key", list(MEDICINES))
def test_a_completed_methotrexate_named_by_an_included_medication_is_a_previous_ectopic(
    client, key
):
    record = _exported(MEDICINES[key])
    lines = _ectopic_used(client.post(PV, json=_call(key, [record], [medication("mtx1")])))
    assert len(lines) == 1 and lines[0].endswith(f": {MEDICINES[key]}/x1"), lines


def _not_used(response: httpx.Response) -> list[str]:
    """The card's "Data that could not be used" lines."""
    (card,) = response.json()["cards"]
    _, _, unused = card["detail"].partition("**Data that could not be used**")
    return [line for line in unused.splitlines() if line.startswith("- ")]


def _named_missing(response: httpx.Response) -> list[str]:
    return [line for line in _not_used(response) if "which the record does not include" in line]


@pytest.mark.parametrize("key", list(MEDICINES))
def test_without_its_included_medication_the_methotrexate_is_named_and_unknown(client, key):
    """An EHR that ignores `_include`: "Medication/mtx1" cannot be resolved, so the record does
    not say it was methotrexate: the previous ectopic stays unknown (as with no record), never
    "none" nor "yes", and the card names what is missing (stop 38; until then it said nothing)."""
    alone = client.post(PV, json=_call(key, [_exported(MEDICINES[key])], []))
    assert _ectopic_used(alone) == []
    assert _named_missing(alone) == [
        f"- {MEDICINES[key]}/x1: names Medication/mtx1 for an ectopic pregnancy, which the "
        "record does not include: whether it was methotrexate is unknown"
    ]
    nothing = client.post(
        PV, json=hook_request("patient-view", prefetch_for(bleeding_under_six_weeks()))
    )
    # otherwise the card of no record at all: the same decision, summary and data used
    (card,), (none,) = _without_uuids(alone), _without_uuids(nothing)
    assert card["detail"].split("**Data that could not be used**")[0].rstrip() == none["detail"]
    assert {k: v for k, v in card.items() if k != "detail"} == {
        k: v for k, v in none.items() if k != "detail"
    }


def _card_without_unused(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """The card's detail up to "Data that could not be used", and its other fields."""
    (card,) = _without_uuids(response)
    detail = card["detail"].split("**Data that could not be used**")[0].rstrip()
    return detail, {k: v for k, v in card.items() if k != "detail"}


# stop 39: an included Medication with no code and no name (as `Medication/mtx1`)
_UNNAMED = {"resourceType": "Medication", "id": "mtx1", "status": "active"}
_UNNAMED_LINE = (
    "names Medication/mtx1 for an ectopic pregnancy, which has no code or name the record "
    "reading knows: whether it was methotrexate is unknown"
)


@pytest.mark.parametrize("key", list(MEDICINES))
def test_an_included_medication_with_no_code_or_name_is_named_and_unknown(client, key):
    """The EHR includes the Medication, but it says nothing of what it is (no code, no name):
    it may have been methotrexate, so for an ectopic pregnancy the previous ectopic stays
    unknown (the card of no record), never "none" nor "yes", and the card names it (stop 39;
    until then it said nothing)."""
    held = client.post(PV, json=_call(key, [_exported(MEDICINES[key])], [_UNNAMED]))
    assert _ectopic_used(held) == []
    assert [line for line in _not_used(held) if "has no code or name" in line] == [
        f"- {MEDICINES[key]}/x1: {_UNNAMED_LINE}"
    ]
    nothing = client.post(
        PV, json=hook_request("patient-view", prefetch_for(bleeding_under_six_weeks()))
    )
    (none,) = _without_uuids(nothing)
    assert _card_without_unused(held) == (
        none["detail"],
        {k: v for k, v in none.items() if k != "detail"},
    )


def test_a_contained_medication_with_no_code_or_name_is_named_for_an_ectopic_only(client):
    """A `#m1` to a contained Medication with no code or name: named for an ectopic; for
    psoriasis, or one coded by a bare dm+d code of another medicine we list (progesterone),
    nothing is named (the card of no record)."""
    unnamed = {"resourceType": "Medication", "id": "m1"}
    record = by_reference(methotrexate("x1"), {"reference": "#m1"}, unnamed)
    lines = _not_used(client.post(PV, json=_call("medications", [record], [])))
    assert [line for line in lines if "has no code or name" in line] == [
        "- MedicationRequest/x1: its contained Medication has no code or name the record reading "
        "knows and its reason is an ectopic pregnancy: whether it was methotrexate is unknown"
    ]
    nothing = client.post(
        PV, json=hook_request("patient-view", prefetch_for(bleeding_under_six_weeks()))
    )
    psoriasis = by_reference(methotrexate("x1", reason="Psoriasis"), {"reference": "#m1"}, unnamed)
    progesterone = by_reference(
        methotrexate("x1"),
        {"reference": "#m1"},
        unnamed | {"code": bare_code(DMD, PROGESTERONE_PESSARIES[0])},
    )
    for other in (psoriasis, progesterone):
        alone = client.post(PV, json=_call("medications", [other], []))
        assert _without_uuids(alone) == _without_uuids(nothing), other


def test_a_missing_medication_for_another_reason_is_not_named(client):
    """A `Medication/x` the EHR does not send, for psoriasis: no concern of the pathway, and no
    noise on the card (the card of no record)."""
    other = by_reference(methotrexate("x1", reason="Psoriasis"), {"reference": "Medication/mtx1"})
    alone = client.post(PV, json=_call("medications", [other], []))
    nothing = client.post(
        PV, json=hook_request("patient-view", prefetch_for(bleeding_under_six_weeks()))
    )
    assert _without_uuids(alone) == _without_uuids(nothing)


def test_a_medication_has_no_patient_and_is_never_another_patients(client):
    """An included Medication (no subject) is read beside her records, not refused as another
    patient's data; a Medication another record names is not read for her request."""
    other = medication("mtx2")
    response = client.post(
        PV, json=_call("medications", [_exported()], [other, medication("mtx1")])
    )
    assert len(_ectopic_used(response)) == 1
    # the included Medication is not the one her request names: nothing read
    response = client.post(PV, json=_call("medications", [_exported()], [other]))
    assert _ectopic_used(response) == []


def _server(honour_include: bool, statuses: str | None = None) -> FakeFhir:
    """A FHIR server holding her completed methotrexate request and its Medication; it filters
    by the statuses asked for (or by ``statuses``, a server of the old template) and includes the
    Medication when asked to (``honour_include``)."""
    record = _exported()

    def answer(request: httpx.Request) -> httpx.Response:
        kind = request.url.path.rsplit("/", 1)[-1]
        if kind == PATIENT_ID:
            return httpx.Response(200, json={"resourceType": "Patient", "id": PATIENT_ID})
        found = {"Condition": [], "Observation": []}
        for r in bleeding_under_six_weeks():
            found.setdefault(r["resourceType"], []).append(r)
        matches = found.get(kind, [])
        included: list[dict[str, Any]] = []
        if kind == "MedicationRequest":
            wanted = (statuses or request.url.params.get("status", "")).split(",")
            matches = [record] if record["status"] in wanted else []
            asked = request.url.params.get("_include") == "MedicationRequest:medication"
            if matches and asked and honour_include:
                included = [medication("mtx1")]
        return httpx.Response(200, json=_search(matches, included))

    return FakeFhir(answer)


@pytest.mark.parametrize(
    ("honour_include", "statuses", "read"),
    [(True, None, True), (False, None, False), (True, "active,on-hold,unknown", False)],
    ids=["includes", "ignores-include", "old-statuses"],
)
def test_the_services_own_fetch_asks_as_the_prefetch_does(
    make_client, honour_include, statuses, read
):
    """No prefetch sent: the service fetches each key itself, with the discovery's templates.
    A server that ignores `_include`, or filters by the old statuses, leaves the previous
    ectopic unknown (not on the card), never read as "none"."""
    fhir = _server(honour_include, statuses)
    client = make_client(fhir_transport=fhir.transport)
    body = with_server(hook_request("patient-view", None))
    response = client.post(PV, json=body)
    lines = _ectopic_used(response)
    assert len(lines) == (1 if read else 0), lines
    assert all(line.endswith(": MedicationRequest/x1") for line in lines), lines
    # without its Medication the request is named as what cannot be read (stop 38)
    missing = _named_missing(response)
    assert len(missing) == (1 if (not read and statuses is None) else 0), missing
    (asked,) = [r for r in fhir.seen if r.url.path.endswith("/MedicationRequest")]
    assert asked.url.params["_include"] == "MedicationRequest:medication"
    assert "completed" in asked.url.params["status"].split(",")


def test_doses_neither_sent_nor_fetchable_leave_the_history_unknown(client):
    """The administrations key is optional: a call without it (an EHR on the old discovery, no
    FHIR server) is answered; a methotrexate given only as a dose is then unseen (unknown)."""
    prefetch = prefetch_for(bleeding_under_six_weeks())
    del prefetch["administrations"]
    assert _ectopic_used(client.post(PV, json=hook_request("patient-view", prefetch))) == []


@pytest.mark.parametrize(
    "medicine", [METHOTREXATE_RXNORM_INJECTABLE, METHOTREXATE_RXNORM_OTREXUP], ids=["scd", "sbd"]
)
def test_a_methotrexate_coded_by_its_rxnorm_product_alone_is_a_previous_ectopic(client, medicine):
    """A US record codes the prescription by its RxNorm clinical or branded drug, with no name
    (stop 38: the product codes of `methotrexate`)."""
    record = methotrexate("x1", medicine=bare_code(RXNORM, medicine))
    lines = _ectopic_used(client.post(PV, json=_call("medications", [record], [])))
    assert len(lines) == 1 and lines[0].endswith(": MedicationRequest/x1"), lines


def test_an_included_medication_coded_by_its_dmd_amp_alone_is_methotrexate(client):
    """A UK record's Medication coded by its dm+d AMP (a brand: "Metoject ...", no word
    methotrexate in it), included beside the dose given."""
    included = {"resourceType": "Medication", "id": "mtx1", "code": bare_code(DMD, METOJECT_AMP)}
    record = _exported("MedicationAdministration")
    lines = _ectopic_used(client.post(PV, json=_call("administrations", [record], [included])))
    assert len(lines) == 1 and lines[0].endswith(": MedicationAdministration/x1"), lines
