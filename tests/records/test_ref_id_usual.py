"""`json_values.ref_id` reads the usual `Kind/id` without its regular expression, with the
same answer as the expression on any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.records import json_values
from earlypath.records.json_values import ref_id

PARTS = ["Patient", "Encounter", "/", "_history", "urn:uuid:", "p-1", "a", ".", " ", "\n", ""]


def _by_pattern(reference: str, kind: str) -> str | None:
    match = json_values._reference_pattern(kind).fullmatch(reference)
    return match.group(1) if match else None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PARTS), max_size=6).map("".join), st.sampled_from(PARTS[:2]))
def test_ref_id_equals_the_pattern(reference: str, kind: str) -> None:
    assert ref_id(reference, kind) == _by_pattern(reference, kind)


@pytest.mark.parametrize(
    ("reference", "kind"),
    [
        ("Patient/p-1", "Patient"),
        ("Patient/", "Patient"),
        ("Patient", "Patient"),
        ("Patients/p-1", "Patient"),
        ("Patient/p-1/_history/2", "Patient"),
        ("http://x/fhir/Patient/p-1", "Patient"),
        ("Patient/Patient/p-1", "Patient"),
        ("urn:uuid:123", "Patient"),
        ("Encounter/e-1", "Patient"),
    ],
)
def test_ref_id_cases(reference: str, kind: str) -> None:
    assert ref_id(reference, kind) == _by_pattern(reference, kind)


def test_usual_reference_without_the_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pattern(kind: str) -> None:
        raise AssertionError("the pattern was run for a plain Kind/id")

    monkeypatch.setattr(json_values, "_reference_pattern", no_pattern)
    assert ref_id("Patient/p-1", "Patient") == "p-1"
    assert ref_id(None, "Patient") is None
