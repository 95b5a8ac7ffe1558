"""The CDS call's plumbing after its fourteenth pass (issue 16): the same answers, less work."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.fhir import mapping
from earlypath.fhir.mapping import OpenedResources, map_resources
from earlypath.web.cds import PREFETCH
from earlypath.web.prefetch import read_prefetched
from tests.unit.test_prefetch_one_pass import _variants


@pytest.mark.parametrize("name", [n for n, _ in _variants()])
def test_the_opened_prefetch_is_read_without_a_copy(name: str, monkeypatch: Any) -> None:
    """The reading lists the opened resources anew as it checks them (`_checked`): it reads them
    as they are, not from a copy `_flatten` would make first; the same answer as a plain list."""
    ours = read_prefetched(PREFETCH, dict(_variants())[name])
    assert type(ours) is OpenedResources
    expected = map_resources(list(ours), mapping.as_day("2026-12-01"))  # type: ignore[arg-type]

    def no_walk(*args: Any) -> Any:
        raise AssertionError("the opened resources were walked or copied")

    monkeypatch.setattr(mapping, "_flatten", no_walk)
    assert map_resources(ours, mapping.as_day("2026-12-01")) == expected  # type: ignore[arg-type]
