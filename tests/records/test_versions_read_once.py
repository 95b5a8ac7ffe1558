"""The Observation version ranking (stop 28) skipped when no (patient, id) repeats (stop 29).

The python engine asks `_State.once` whether each (patient, id) of a versions table is on one
row; then its rows by (patient, id) are the index of every ranking, and the generated reading
skips the visits ranking the versions first and choosing the one read (no row comes of them:
each version is alone). These tests hold that this skip path and the full path (`once` answering
no, so every ranking is built and every visit made) give the same episodes and problems, on
records with and without repeated ids, for the generated reading and the closures alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import python as engine
from earlypath.records.definition import READING
from tests.integration import fhir_data as f
from tests.records import scan_shapes

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# records to start from: the CDS benchmark's (three Observations, each sent once), the scan
# findings' version shapes and the report versions (Observations beside reports)
_BASES: list[list[dict[str, Any]]] = [
    f.eligible_resources(),
    *(record for record, _ in scan_shapes.OBSERVATION_VERSIONS.values()),
    *(record for record, _ in scan_shapes.SHARED_ID_CASES.values()),
    *(record for record, _ in list(scan_shapes.REPORT_VERSIONS.values())[:4]),
]
_STATUSES = ("final", "amended", "corrected", "preliminary", "entered-in-error", "cancelled")
_UPDATED = (None, "2024-03-04T12:00:00Z", "2024-03-04T16:00:00Z")


@contextmanager
def _full_path() -> Iterator[None]:
    """Every (patient, id) read as though it repeated: each ranking built, each visit made."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine._State, "once", lambda self, table: False)
        yield


def _read(record: list[dict[str, Any]], generated: bool) -> tuple[Any, ...]:
    done = engine.read(READING, record, f.TODAY, fused=generated, generated=generated)
    return done.values, done.problems, list(done.evidence.items())


def _tables_read(record: list[dict[str, Any]], generated: bool) -> dict[str, Any]:
    """The tables of a reading as they stood at its end (a reading drops them as it returns:
    `_State.end`)."""
    kept: dict[str, Any] = {}
    end = engine._State.end

    def keep_then_end(state: engine._State) -> None:
        kept.update(state.tables)
        end(state)

    with mock.patch.object(engine._State, "end", keep_then_end):
        _read(record, generated)
    return kept


def _observation_keys(record: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    return [
        (r.get("subject", {}).get("reference"), r["id"])
        for r in record
        if r.get("resourceType") == "Observation" and type(r.get("id")) is str
    ]


@st.composite
def versioned(draw: Any) -> list[dict[str, Any]]:
    """A base record, some of its Observations sent again with their id (another status, time,
    value or patient), some without an id."""
    record = [dict(r) for r in draw(st.sampled_from(_BASES))]
    for resource in [r for r in record if r.get("resourceType") == "Observation"]:
        if draw(st.integers(0, 9)) == 0:
            resource.pop("id", None)
            continue
        for _ in range(draw(st.integers(0, 2))):
            version = {**resource, "status": draw(st.sampled_from(_STATUSES))}
            updated = draw(st.sampled_from(_UPDATED))
            if updated is not None:
                version["meta"] = {"lastUpdated": updated}
            if draw(st.booleans()) and "valueCodeableConcept" in version:
                del version["valueCodeableConcept"]
                version["valueString"] = "No intrauterine pregnancy seen"
            if draw(st.integers(0, 4)) == 0:
                version["subject"] = {"reference": "Patient/another"}
            record.insert(draw(st.integers(0, len(record))), version)
    return record


@SETTINGS
@given(record=versioned())
def test_the_skip_path_and_the_full_path_read_every_record_alike(record) -> None:
    keys = _observation_keys(record)
    read: dict[tuple[bool, bool], tuple[Any, ...]] = {}
    for generated in (True, False):
        read[(generated, True)] = _read(record, generated)
        with _full_path():
            read[(generated, False)] = _read(record, generated)
    # the generated reading skipping, and the closures ranking every version (the reference)
    assert read[(True, True)] == read[(False, False)], keys
    assert read[(True, False)] == read[(False, False)], ("generated, full path", keys)
    assert read[(False, True)] == read[(False, False)], ("closures, skip path", keys)
    # and the generated reading answers itself (it did not raise to the reference)
    assert engine._compile_spec(READING).generated(record, f.TODAY, None, None) is not None


@pytest.mark.parametrize(
    "name", ["eligible", *scan_shapes.OBSERVATION_VERSIONS, *scan_shapes.SHARED_ID_CASES]
)
def test_each_shape_reads_alike_by_both_paths(name: str) -> None:
    """The version shapes of stop 28 (ids repeated) and those sent once, by both paths."""
    shapes = {**scan_shapes.OBSERVATION_VERSIONS, **scan_shapes.SHARED_ID_CASES}
    record = f.eligible_resources() if name == "eligible" else shapes[name][0]
    for generated in (True, False):
        skipped = _read(record, generated)
        with _full_path():
            assert _read(record, generated) == skipped, name


def _visits_of(table: str) -> list[str]:
    """The generated type functions filling ``table`` (appending rows to it)."""
    source = engine._compile_spec(READING).generated.source
    functions = source.split("\ndef ")
    return [
        text.split("(")[0].removeprefix("def ")
        for text in functions
        if text.removeprefix("def ").startswith("read_type") and f"t_{table}.append(" in text
    ]


def _count_visits(record: list[dict[str, Any]], kind: str = "observation") -> int:
    """How many times the generated reading of ``record`` visits an Observation (``kind``
    "report": a DiagnosticReport) to rank its versions first or choose the one read (a counting
    wrapper around the real functions)."""
    reading = engine._compile_spec(READING).generated
    inner = next(
        c.cell_contents
        for c in reading.__closure__
        if callable(c.cell_contents) and getattr(c.cell_contents, "__name__", "") == "reading"
    )
    namespace = inner.__globals__
    calls = [0]
    names = _visits_of(f"{kind}_tops") + _visits_of(f"{kind}_chosen")
    assert len(names) == 2, names
    kept = {name: namespace[name] for name in names}

    def counted(fn: Any) -> Any:
        def visit(*args: Any) -> Any:
            calls[0] += 1
            return fn(*args)

        return visit

    try:
        namespace.update({name: counted(fn) for name, fn in kept.items()})
        assert reading(record, f.TODAY, None, None) is not None
    finally:
        namespace.update(kept)
    return calls[0]


def test_observations_each_sent_once_are_not_visited_to_rank_their_versions() -> None:
    """The CDS benchmark's record (three Observations, each sent once): no visit ranks or
    chooses a version (stop 28 made two more visits of each Observation, 6 calls a reading);
    a record where an id repeats still makes them."""
    record = f.eligible_resources()
    assert len(_observation_keys(record)) == len(set(_observation_keys(record))) >= 3
    assert _count_visits(record) == 0
    repeated, _ = scan_shapes.OBSERVATION_VERSIONS["tied-finding-versions-disagree-held-back-a"]
    observations = sum(r.get("resourceType") == "Observation" for r in repeated)
    assert _count_visits(repeated) == 2 * observations


def test_an_index_by_patient_and_id_serves_every_ranking_only_when_no_id_repeats() -> None:
    """`_State.once`: rows without an id left out; (patient, id) repeated -> no."""
    state = engine._State()
    rows = [
        {"id": "a", "patient": "p", "n": 1},
        {"id": "a", "patient": "q", "n": 2},
        {"id": None, "patient": "p", "n": 3},
        {"id": None, "patient": "p", "n": 4},
    ]
    state.begin({"t": rows, "u": [*rows, {"id": "a", "patient": "p", "n": 5}]})
    assert state.once("t") is True
    assert state.index("t", ("n",), True, True) is state.index("t", (), False, True)
    assert state.index("t", (), False, True)[("q", "a")]["n"] == 2
    assert state.once("u") is False
    assert state.index("u", ("n",), True, True)[("p", "a")]["n"] == 1
    assert state.index("u", (), False, True)[("p", "a")]["n"] == 5


def test_versions_each_sent_once_are_counted_on_their_key_alone() -> None:
    """Stop 30: while no (patient, id) repeats, an Observation's versions row holds its key
    (id, patient) and ``n`` only, all `_State.once` and the `alone` test read: its rank (time,
    amending status) and ref are not read for the CDS benchmark's record. When an id repeats,
    the rows are written whole in the same list before any ranking is built: the rows the
    closures build, none twice."""
    rows = _tables_read(f.eligible_resources(), True)["observation_versions"]
    assert len(rows) >= 3 and all(set(row) == {"id", "patient", "n"} for row in rows)
    repeated, _ = scan_shapes.OBSERVATION_VERSIONS["tied-finding-versions-disagree-held-back-a"]
    whole = _tables_read(repeated, True)["observation_versions"]
    assert {"at", "amends", "ref"} <= set(whole[0])
    assert whole == _tables_read(repeated, False)["observation_versions"]


def test_whether_an_id_repeats_is_asked_once_a_reading() -> None:
    """Stop 30: the answer of `_State.once` where the versions are counted is kept in a local
    for the visits it skips (three asks a reading before)."""
    source = engine._compile_spec(READING).generated.source
    assert source.count("STATE.once('observation_versions')") == 1


def test_a_scan_report_sent_once_is_not_visited_to_rank_its_versions() -> None:
    """Stop 30: report versions asked `alone` as an Observation's are: a report sent once (its
    conclusion coded, or its finding contained) is read without the visits ranking its
    versions and choosing the one read (4 visits a report before), and reads as the full path
    and the closures read it; a report sent twice still makes them."""
    coded = scan_shapes.scanned(scan_shapes.scan_report(conclusion=scan_shapes.IUP_CONCEPT))
    contained = scan_shapes.scanned(scan_shapes.scan_report(contained=[_contained_finding()]))
    for record in (coded, contained):
        assert _count_visits(record, "report") == 0
        with _full_path():
            assert _count_visits(record, "report") == 2
            full = _read(record, True)
        assert _read(record, True) == full == _read(record, False)
    repeated, _ = next(iter(scan_shapes.REPORT_VERSIONS.values()))
    assert _count_visits(repeated, "report") == 2 * sum(
        r.get("resourceType") == "DiagnosticReport" for r in repeated
    )


def _contained_finding() -> dict[str, Any]:
    finding = scan_shapes.iup_with(rid="c-iup")
    del finding["subject"]  # a contained resource takes its container's subject
    return finding
