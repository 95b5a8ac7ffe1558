"""The CDS call's plumbing after its thirteenth pass (issue 16): the same answers, less work."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.fhir import mapping
from earlypath.fhir.mapping import OpenedResources, map_resources
from earlypath.web.allergy_check import unchecked_reason
from earlypath.web.cds import PREFETCH, SERVICES, service_called
from earlypath.web.prefetch import read_prefetched
from tests.integration import fhir_data as f
from tests.unit.test_prefetch_one_pass import _variants

# The service path as the router reads it (and as `service_called` first matched it).
_ROUTE = re.compile(r"/cds-services/([^/]+)")


def by_the_route(scope: dict[str, Any]) -> Any:
    if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
        match = _ROUTE.fullmatch(scope["path"])
        if match is not None:
            return SERVICES.get(match.group(1))
    return None


@contextmanager
def c_calls() -> Iterator[list[str]]:
    """The names of the C functions called inside the block (a profile hook)."""
    seen: list[str] = []

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call":
            seen.append(getattr(arg, "__name__", ""))

    sys.setprofile(hook)
    try:
        yield seen
    finally:
        sys.setprofile(None)


PATHS = [
    *(f"/cds-services/{sid}" for sid in SERVICES),
    *(f"/cds-services/{sid}/" for sid in SERVICES),
    *(f"/cds-services/{sid}/feedback" for sid in SERVICES),
    *(f"/cds-services/{sid}\n" for sid in SERVICES),
    *(f"/cds-services//{sid}" for sid in SERVICES),
    *(f"/x/cds-services/{sid}" for sid in SERVICES),
    "/cds-services/",
    "/cds-services",
    "/cds-services/unknown",
    "/",
    "",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("root_path", ["", "/proxy"])
def test_service_called_is_the_routes_reading(path: str, method: str, root_path: str) -> None:
    scope = {"type": "http", "method": method, "path": path, "root_path": root_path}
    assert service_called(scope) is by_the_route(scope)
    websocket = {**scope, "type": "websocket"}
    assert service_called(websocket) is by_the_route(websocket) is None


@settings(max_examples=200)
@given(st.text(alphabet="/-.abcdegnoprstuvx126\n", max_size=40))
def test_service_called_on_any_path(tail: str) -> None:
    for path in (tail, "/cds-services/" + tail):
        scope = {"type": "http", "method": "POST", "path": path}
        assert service_called(scope) is by_the_route(scope)


def test_service_called_matches_no_regular_expression() -> None:
    """Twice a call (the lane, then `ServiceCalls`): a dict look-up, not a pattern."""
    scope = {"type": "http", "method": "POST", "path": "/cds-services/ng126-progesterone"}
    with c_calls() as seen:
        found = service_called(scope)
    assert found is SERVICES["ng126-progesterone"]
    assert not {"match", "fullmatch", "search"} & set(seen), seen


@pytest.mark.parametrize("name", [n for n, _ in _variants()])
def test_the_usual_prefetch_comes_out_opened(name: str) -> None:
    """What the one pass gives is flat (each a dict, none a Bundle): the walk would give it as
    it is, reporting nothing."""
    request = dict(_variants())[name]
    ours = read_prefetched(PREFETCH, request)
    assert type(ours) is OpenedResources
    problems: list[Any] = []
    walked = mapping._flatten(list(ours), problems)
    assert walked == ours and problems == []
    assert all(type(r) is dict and r.get("resourceType") != "Bundle" for r in ours)


def test_opened_resources_are_not_walked_again() -> None:
    bundle = {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Condition"}}]}
    opened = OpenedResources([bundle])  # never made so by the service: shows the walk is skipped
    flat = mapping.flatten(opened)
    assert flat == [bundle] and flat is not opened and type(flat) is list
    assert mapping.flatten([bundle]) == [{"resourceType": "Condition"}]


def test_the_usual_call_is_read_from_the_opened_resources() -> None:
    request = dict(_variants())["usual"]
    ours = read_prefetched(PREFETCH, request)
    assert ours is not None
    assert map_resources(ours, f.TODAY) == map_resources(list(ours), f.TODAY)
    assert unchecked_reason([], ours) == unchecked_reason([], list(ours))
