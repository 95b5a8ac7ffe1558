"""The whole reading as one generated function (`earlypath.records.python_reading`) gives what
the closures give (the reference reading of each node): the steps' values, the problems in
order, the evidence in order (the card shows both as they come), on generated records (the
audit's several-patient exports, read per encounter as the agreement test reads them; records
with any element replaced by any JSON). A node the generator does not write sends the whole
definition to the reference path; a call that raises is read again by it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import ir as rir
from earlypath.records import python as engine
from earlypath.records import python_reading, python_source
from earlypath.records.definition import READING
from tests.audit.test_fhir_mapping_agrees import _patient_of, exports
from tests.fhir_exports import export_merges
from tests.integration.fhir_data import TODAY as TODAY_FHIR
from tests.records import scan_shapes
from tests.records.test_engines_agree import _record
from tests.records.test_python_properties import TODAY, wild_records

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _generated() -> Any:
    fn = engine._compile_spec(READING).generated
    assert fn is not None, "the definition is read by the reference path: a node is not written"
    return fn


def _same(resources: list[Any], assessed_on: dt.date, encounter: Any, patient: Any) -> None:
    reference = engine.read(READING, resources, assessed_on, encounter, patient, fused=False)
    got = _generated()(resources, assessed_on, encounter, patient)
    assert got is not None  # it raised (the caller would read by the reference): none seen
    values, problems, evidence = got
    assert values == reference.values
    assert problems == reference.problems
    assert list(evidence.items()) == list(reference.evidence.items())


@st.composite
def with_copies(draw: Any, record: list[Any]) -> list[Any]:
    """The record with some of its resources recorded twice under another id (the same day,
    the same value): ties for "latest", equal values for "count of distinct", a row noted
    twice as evidence."""
    out = list(record)
    for item in record:
        if item.get("resourceType") != "Patient" and draw(st.booleans()):
            copy = {**item, "id": f"{item.get('id')}-copy"}
            out.insert(draw(st.integers(0, len(out))), copy)
    return out


@SETTINGS
@given(export=exports())
def test_every_encounter_of_generated_exports_is_read_as_the_closures_read_it(export) -> None:
    merges = export_merges(export)  # once an export, not once an encounter
    for encounter in export["Encounter"]:
        patient = _patient_of(encounter)
        start = encounter.get("period", {}).get("start", "")
        assessed_on = dt.date.fromisoformat(start[:10]) if len(start) >= 10 else TODAY
        record = _record(export, patient, merges)
        # a woman's record read with merge links is never given to the generated function
        # (`engine.read` resolves them and reads by the closures: test_engines_agree holds it)
        if not engine._merges_among(record).survivor:
            _same(record, assessed_on, encounter.get("id"), patient)
        _same(record, assessed_on, None, None)  # as a CDS call reads it


@SETTINGS
@given(data=st.data(), export=exports())
def test_records_with_resources_recorded_twice_are_read_as_the_closures_read_them(
    data, export
) -> None:
    for encounter in export["Encounter"][:1]:
        patient = _patient_of(encounter)
        record = data.draw(with_copies(_record(export, patient, export_merges(export))))
        _same(record, TODAY, None, None)


@SETTINGS
@given(record=wild_records())
def test_records_with_any_json_are_read_as_the_closures_read_them(record) -> None:
    _same(record, TODAY, None, None)
    got = engine.read(READING, record, TODAY)
    reference = engine.read(READING, record, TODAY, fused=False)
    assert (got.values, got.problems, got.evidence) == (
        reference.values,
        reference.problems,
        reference.evidence,
    )


def test_the_generated_function_answers_most_records_itself() -> None:
    """A fallback that always ran would pass the tests above: the generated function must
    itself read ordinary records."""
    from tests.integration import fhir_data as f

    assert _generated()(f.eligible_resources(), f.TODAY, None, None) is not None


def test_a_node_the_generator_does_not_write_sends_the_definition_to_the_reference() -> None:
    """A step the closures read (a resource's field, read over an encounter: None) and the
    generator does not write: the whole definition is read by the reference, the step not
    skipped."""
    steps = (*READING.steps, ("new", rir.Field("id", "str")))
    spec = dataclasses.replace(READING, steps=steps)
    with pytest.raises(python_reading.Unsupported):
        python_reading.generate_reading(
            spec, engine._compile_spec(READING), engine._Compiler({}, engine._State()).helpers(),
            engine._ref,
        )  # fmt: skip
    assert engine._compile_spec(spec).generated is None
    from tests.integration import fhir_data as f

    got = engine.read(spec, f.eligible_resources(), f.TODAY)
    reference = engine.read(READING, f.eligible_resources(), f.TODAY, fused=False)
    assert got.values == {**reference.values, "new": None}
    assert got.problems == reference.problems


def test_a_call_that_raises_is_read_by_the_reference(monkeypatch) -> None:
    compiled = engine._compile_spec(READING)
    calls = []

    def raising(*args: Any) -> None:
        calls.append(args)
        return None  # what the generated function answers when its code raised

    monkeypatch.setattr(compiled, "generated", raising)
    from tests.integration import fhir_data as f

    got = engine.read(READING, f.eligible_resources(), f.TODAY)
    reference = engine.read(READING, f.eligible_resources(), f.TODAY, fused=False)
    assert calls and got.values == reference.values and got.problems == reference.problems


def test_each_resource_is_read_once_for_all_the_row_specs_of_its_type() -> None:
    """Layer 1: one generated function per resource type (an Observation's clinical row and
    its malformed-element check in one), called once per resource; one more for each level of
    specs joining a table its own type fills (a scan report's check joins its read findings,
    stop 23; stop 27: its versions ranked, then those first, then the one read chosen, then its
    findings read, then the checks: five visits, each once the tables it joins are whole; stop
    28: an Observation's versions ranked the same way, per patient: four visits; stop 30: its
    versions counted on their key first, written whole only when an id repeats: a fifth
    function, for the visit made only then; stop 31, HAZ-20 C20.22: whether the tied versions'
    CRL or MSD components differ, `observation_items_differ`, joins the component tables the
    tops' visit fills: a sixth, also made only when an id repeats; stop 49: a panel's members'
    references read in the versions' first visit, the versions still counted on their key
    there, and a scan report's too, beside its malformed check: a sixth report function)."""
    source = _generated().source
    kinds = {r.resource for r in READING.rows}
    visits = {"DiagnosticReport": 6, "Observation": 6}
    count = source.count("\ndef read_type") + source.startswith("def read_type")
    assert count == len(kinds) + sum(v - 1 for v in visits.values())
    for kind in kinds:
        assert source.count(f"  # {kind}\n") == visits.get(kind, 1)


def test_a_type_is_looked_up_once_however_many_visits_it_has() -> None:
    """A record's resources of a type are looked up once, its later visits under that look-up:
    a record without a scan report pays one look-up for the report's five visits, not five
    (stop 28: the cost stop 27's versions added to every record)."""
    source = _generated().source
    for kind in {r.resource for r in READING.rows}:
        assert source.count(f"by_type.get({kind!r})") == 1


def test_every_table_a_join_asks_for_is_given_to_the_joins(monkeypatch) -> None:
    """The generated reading gives `_State.index` only the tables a `Joined` reads (stop 28):
    every table the joins ask for while reading each shape of versioned and contained scan
    reports is among them (a table left out would read as empty: its joins None)."""
    asked: set[str] = set()
    given: list[set[str]] = []
    index, begin = engine._State.index, engine._State.begin

    def spy_index(self: Any, table: str, *rest: Any) -> Any:
        asked.add(table)
        return index(self, table, *rest)

    def spy_begin(self: Any, tables: dict[str, Any]) -> None:
        given.append(set(tables))
        begin(self, tables)

    monkeypatch.setattr(engine._State, "index", spy_index)
    monkeypatch.setattr(engine._State, "begin", spy_begin)
    shapes = [r for r, _ in scan_shapes.REPORT_VERSIONS.values()]
    shapes += [r for r, _ in scan_shapes.CONTAINED_REPORTS.values()]
    for resources in shapes:
        assert _generated()(resources, TODAY_FHIR, None, None) is not None
    assert {"report_versions", "report_tops", "report_chosen", "report_reads"} <= asked
    assert given and all(asked <= tables for tables in given)
    filled = {r.table for r in READING.rows}
    assert given[-1] == python_reading.spec_joined_tables(READING) & filled


def test_a_spec_joining_a_table_filled_later_keeps_the_definitions_order() -> None:
    """Grouping by type would read a spec that fills the joined table (here Observations as
    medications, listed after the MedicationRequests that join it) before the join: the
    reading keeps one loop per spec, in the definition's order, and reads as the closures."""
    medications = next(r for r in READING.rows if r.table == "medications")
    spec = dataclasses.replace(
        READING, rows=(*READING.rows, dataclasses.replace(medications, resource="Observation"))
    )
    generated = engine._compile_spec(spec).generated
    assert generated is not None and "def read_type" not in generated.source
    from tests.integration import fhir_data as f

    got = generated(f.eligible_resources(), f.TODAY, None, None)
    reference = engine.read(spec, f.eligible_resources(), f.TODAY, fused=False)
    assert got is not None and (got[0], got[1]) == (reference.values, reference.problems)


def test_a_name_written_once_and_read_nowhere_is_not_bound() -> None:
    """The generated source drops the binding of a temporary never read (one store less, one
    local less); a name read elsewhere, or written inside a string, stays bound."""
    text = "def f(j):\n    return (v1 := j.get('a')), (v2 := j.get('v3')) + v2, (v3 := 1)\n"
    assert python_source.drop_unread_bindings(text) == (
        "def f(j):\n    return (j.get('a')), (v2 := j.get('v3')) + v2, (v3 := 1)\n"
    )


def _unreferred_and_none_read() -> list[dict[str, Any]]:
    """A scan report holding a finding its result does not name, none of whose findings is
    read: two problems of one report, from two of its specs (the second read in a second visit
    of the type: it joins the reports' reads)."""
    report = scan_shapes.scan_report(contained=[scan_shapes._YOLK_SAC_SEEN])
    report["result"] = [{"reference": "#another"}]
    return scan_shapes.scanned(report)


@pytest.mark.parametrize(
    "record",
    [_unreferred_and_none_read(), *(r for r, _ in scan_shapes.CONTAINED_REPORTS.values())],
    ids=["unreferred-and-none-read", *scan_shapes.CONTAINED_REPORTS],
)
def test_a_reports_problems_come_in_the_closures_order(record: list[dict[str, Any]]) -> None:
    """Found by the generated exports at stop 23's merge: the generated reading gave a report's
    problems in the order of its visits, the closures in the definition's order of the specs."""
    _same(record, TODAY_FHIR, None, None)
