"""The usual CDS call's prefetch read in one pass (`prefetch.read_prefetched`, issue 16).

It must give the record the general reader gives (the same episode, problems and evidence once
read), and give up (None) on anything the general reader answers otherwise: a next page, a
failed entry or an error OperationOutcome, a `total` above the matches, a nested Bundle, a key
not sent, another patient's or an untied resource. The general reader then answers as before
(412 / 422 / a fetch), which the CDS tests hold.
"""

from __future__ import annotations

import asyncio
import copy
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from earlypath.fhir.mapping import flatten, map_resources
from earlypath.web import prefetch
from earlypath.web.cds import PREFETCH, REQUIRED
from earlypath.web.prefetch import DataUnavailable, ForeignPatient, gather, read_prefetched
from tests.integration import fhir_data as f


def _run_alone(call: Any) -> Any:
    """A coroutine on an event loop of its own thread (in the whole suite a browser test can
    leave a loop running in this one, where asyncio.run fails)."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, call).result()


def _general(request: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """What the general reader gives (the one-pass read switched off), or the error it raises."""
    with monkeypatch.context() as m:
        m.setattr(prefetch, "read_prefetched", lambda *args: None)
        try:
            return _run_alone(gather(PREFETCH, REQUIRED, request, None, []))
        except (DataUnavailable, ForeignPatient) as error:
            return error


def _usual() -> dict[str, Any]:
    request = f.hook_request("patient-view", f.prefetch_for(f.eligible_resources()))
    request["prefetch"]["patient"]["identifier"] = [{"system": "https://nhs.uk", "value": "943"}]
    return request


def _variants() -> list[tuple[str, dict[str, Any]]]:
    """Calls the one pass reads itself: fullUrls, search modes, warnings, totals, nulls."""
    out = [("usual", _usual())]
    r = _usual()
    for n, entry in enumerate(r["prefetch"]["observations"]["entry"]):
        entry["fullUrl"] = f"https://ehr.example/fhir/Observation/o{n}"
        entry["search"] = {"mode": "match"}
        entry["response"] = {"status": "200 OK"}
    r["prefetch"]["observations"]["total"] = 3
    out.append(("full urls, total", r))
    r = _usual()
    r["prefetch"]["conditions"]["entry"].append(
        {
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "information", "code": "informational"}],
            },
            "search": {"mode": "outcome"},
        }
    )
    r["prefetch"]["conditions"]["total"] = 2
    r["prefetch"]["conditions"]["link"] = [{"relation": "self", "url": "https://x/Condition"}]
    out.append(("a warning outcome", r))
    r = _usual()
    r["prefetch"]["statements"] = None
    r["prefetch"]["medications"] = {"resourceType": "Bundle", "type": "searchset"}
    out.append(("null and no entries", r))
    r = _usual()
    cond = r["prefetch"]["conditions"]["entry"][0]["resource"]
    cond["subject"] = {"identifier": {"system": "https://nhs.uk", "value": "943"}}
    out.append(("subject by her identifier", r))
    r = _usual()
    del r["prefetch"]["patient"]["id"]
    out.append(("her Patient without an id", r))
    r = _usual()
    del r["prefetch"]["patient"]["identifier"]
    out.append(("her Patient without identifiers", r))
    r = _usual()
    r["prefetch"]["medications"] = {"resourceType": "Bundle", "entry": [], "total": 0}
    r["prefetch"]["reports"]["link"] = [{"relation": "self", "url": "https://x/Report"}]
    out.append(("empty pages, a total of 0 and a self link", r))
    return out


@pytest.mark.parametrize(
    "request_body", [r for _, r in _variants()], ids=[n for n, _ in _variants()]
)
def test_one_pass_reads_what_the_general_reader_reads(
    request_body: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = read_prefetched(PREFETCH, request_body)
    assert ours is not None, "the usual call is read in one pass"
    general = _general(request_body, monkeypatch)
    assert not isinstance(general, Exception)
    # the general reader gives Bundle pages, the one pass their resources: the same record
    assert map_resources(ours, f.TODAY) == map_resources(general, f.TODAY)
    assert ours == flatten(general)


def _gave_up(name: str) -> dict[str, Any]:
    r = _usual()
    p = r["prefetch"]
    conditions = p["conditions"]
    if name == "next page":
        conditions["link"] = [{"relation": "next", "url": "https://x/Condition?page=2"}]
    elif name == "failed entry":
        conditions["entry"][0]["response"] = {"status": "500 Internal Server Error"}
    elif name == "error outcome":
        conditions["entry"].append(
            {"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}}
        )
    elif name == "partial outcome":
        conditions["entry"].append(
            {
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "warning", "code": "incomplete"}],
                }
            }
        )
    elif name == "total above matches":
        conditions["total"] = 5
    elif name == "empty page with a next link":
        p["reports"]["link"] = [{"relation": "next", "url": "https://x/Report?page=2"}]
    elif name == "empty page below its total":
        p["reports"]["total"] = 1
    elif name == "entries not a list":
        p["reports"]["entry"] = {}
    elif name == "a subject by an identifier her Patient does not list":
        del p["patient"]["identifier"]
        ident = {"system": "https://nhs.uk", "value": "943"}
        conditions["entry"][0]["resource"]["subject"] = {"identifier": ident}
    elif name == "nested bundle":
        conditions["entry"].append({"resource": f.bundle([f.bleeding()])})
    elif name == "entry not an object":
        conditions["entry"].append("x")
    elif name == "resource not an object":
        conditions["entry"].append({"resource": ["x"]})
    elif name == "key not sent":
        del p["statements"]
    elif name == "another patient":
        conditions["entry"][0]["resource"]["subject"] = {"reference": "Patient/other"}
    elif name == "untied":
        conditions["entry"][0]["resource"]["subject"] = {"display": "Jane"}
    elif name == "an identifier not hers":
        ident = {"system": "https://nhs.uk", "value": "1"}
        conditions["entry"][0]["resource"]["subject"] = {"identifier": ident}
    elif name == "another Patient":
        p["patient"]["id"] = "other"
    elif name == "outcome as the value":
        p["observations"] = {"resourceType": "OperationOutcome", "issue": []}
    elif name == "wrong type":
        p["patient"] = {"resourceType": "Observation", "id": "x"}
    elif name == "not an object":
        p["observations"] = []
    return r


GIVE_UP = [
    "next page",
    "failed entry",
    "error outcome",
    "partial outcome",
    "total above matches",
    "empty page with a next link",
    "empty page below its total",
    "entries not a list",
    "a subject by an identifier her Patient does not list",
    "nested bundle",
    "entry not an object",
    "resource not an object",
    "key not sent",
    "another patient",
    "untied",
    "an identifier not hers",
    "another Patient",
    "outcome as the value",
    "wrong type",
    "not an object",
]


# What the general reader reads without refusing (the reading reports the odd entry).
READ_BY_THE_GENERAL_READER = {"nested bundle", "resource not an object"}


@pytest.mark.parametrize("name", GIVE_UP)
def test_anything_else_is_left_to_the_general_reader(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = _gave_up(name)
    assert read_prefetched(PREFETCH, request) is None
    refused = isinstance(_general(request, monkeypatch), Exception)
    assert refused == (name not in READ_BY_THE_GENERAL_READER)


def test_the_call_does_not_go_through_the_general_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def general_reader(*args: Any) -> Any:
        raise AssertionError("read by the general reader")

    monkeypatch.setattr(prefetch._Reader, "prefetched", general_reader)
    read = _run_alone(gather(PREFETCH, REQUIRED, _usual(), None, []))
    assert read == read_prefetched(PREFETCH, _usual())


def test_the_request_is_not_changed() -> None:
    request = _usual()
    before = copy.deepcopy(request)
    read_prefetched(PREFETCH, request)
    assert request == before


def test_her_own_patient_is_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Her Patient resource with her id is hers without `scope_problem`'s walk (issue 16: the
    walk was about a tenth of the one pass); any other Patient is still walked."""

    def walk(*args: Any) -> Any:
        raise AssertionError("her Patient walked")

    monkeypatch.setattr(prefetch, "scope_problem", walk)
    assert read_prefetched(PREFETCH, _usual()) is not None
    request = _usual()
    request["prefetch"]["patient"]["id"] = "other"
    with pytest.raises(AssertionError, match="her Patient walked"):
        read_prefetched(PREFETCH, request)
