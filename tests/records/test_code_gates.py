"""Columns under their code gates (`earlypath.records.code_gates`, `python_reading.
column_values`): every row the generated reading writes, every column of it (the None and False
ones too) and every problem, is the row the ungated generation writes (every column computed
for every row), on the real-shape records of tests/records and on generated records; the
reading's answers are the same. And the gates are there: an Observation's LMP column is
computed under a test of the LMP set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import code_gates
from earlypath.records import ir as rir
from earlypath.records import python as engine
from earlypath.records.definition import READING
from earlypath.rules import ir
from tests.audit.test_fhir_mapping_agrees import _patient_of, exports
from tests.fhir_exports import export_merges
from tests.integration import fhir_data as f
from tests.records import (
    count_shapes,
    length_version_shapes,
    partial_date_shapes,
    previous_ectopic_shapes,
    previous_history_shapes,
    real_shapes,
)
from tests.records.test_engines_agree import _record
from tests.records.test_python_properties import TODAY, wild_records

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _named_records() -> dict[str, list[dict[str, Any]]]:
    """The real-shape records of tests/records, by case."""
    out: dict[str, list[dict[str, Any]]] = {"eligible": f.eligible_resources()}
    for module in (count_shapes, partial_date_shapes, previous_ectopic_shapes):
        out |= {f"{module.__name__}:{k}": v[0] for k, v in module.CASES.items()}  # type: ignore[attr-defined]
    out |= {f"history:{k}": v[0] for k, v in previous_history_shapes.CASES.items()}
    out |= {f"length:{k}": v[0] for k, v in length_version_shapes.LENGTH_VERSIONS.items()}
    for name, (code, value) in {
        **real_shapes.NEGATIVE_TESTS,
        **real_shapes.UNREADABLE_TESTS,
    }.items():
        out[f"hcg:{name}"] = real_shapes.ended_then_scanned(real_shapes.pregnancy_test(code, value))
    return out


NAMED = _named_records()


def _reading(gated: bool) -> Any:
    fn = engine._compile_spec(READING, gated=gated).generated
    assert fn is not None, "the definition is read by the reference path"
    return fn


def _namespace(fn: Any) -> dict[str, Any]:
    """The globals of the generated ``reading`` (where its type functions are looked up)."""
    (inner,) = [c.cell_contents for c in fn.__closure__ if callable(c.cell_contents)]
    return inner.__globals__  # type: ignore[no-any-return]


@contextmanager
def _rows_written(fn: Any) -> Iterator[list[list[str]]]:
    """Every call of a type function of ``fn``: the rows (and problems) it appended to each of
    its lists, as text (``repr``: True is not 1, 1.0 not 1)."""
    namespace = _namespace(fn)
    names = [n for n in namespace if n.startswith("read_type")]
    calls: list[list[str]] = []

    def spy(real: Any) -> Any:
        def call(*args: Any) -> Any:
            lists = [a for a in args if type(a) is list]
            before = [len(a) for a in lists]
            done = real(*args)
            calls.append([repr(a[n:]) for a, n in zip(lists, before, strict=True)])
            return done

        return call

    real = {n: namespace[n] for n in names}
    try:
        namespace.update({n: spy(fn_) for n, fn_ in real.items()})
        yield calls
    finally:
        namespace.update(real)


def _same_rows(record: list[Any], assessed_on: dt.date, encounter: Any, patient: Any) -> Any:
    states = [engine._compile_spec(READING, gated=g).state for g in (True, False)]
    gated, ungated = _reading(True), _reading(False)
    try:
        for state in states:  # as `engine.read` reads her record (a CDS call: one record)
            state.one_record = patient is None
        with _rows_written(gated) as got:
            answer = gated(record, assessed_on, encounter, patient)
        with _rows_written(ungated) as expected:
            expected_answer = ungated(record, assessed_on, encounter, patient)
    finally:
        for state in states:
            state.one_record = False
    assert got == expected
    assert answer == expected_answer
    return answer


@pytest.mark.parametrize("name", sorted(NAMED))
def test_real_shapes_give_the_ungated_rows(name: str) -> None:
    record = NAMED[name]
    # read by the generated function itself (None: by the reference, which has no gates)
    assert _same_rows(record, f.TODAY, None, None) is not None
    assert _same_rows(record, f.TODAY, "enc-1", f.PATIENT_ID) is not None


@SETTINGS
@given(export=exports())
def test_generated_exports_give_the_ungated_rows(export: dict[str, list[Any]]) -> None:
    merges = export_merges(export)
    for encounter in export["Encounter"]:
        patient = _patient_of(encounter)
        record = _record(export, patient, merges)
        _same_rows(record, TODAY, encounter.get("id"), patient)
        _same_rows(record, TODAY, None, None)


@SETTINGS
@given(record=wild_records())
def test_records_with_any_json_give_the_ungated_rows(record: list[Any]) -> None:
    _same_rows(record, TODAY, None, None)


def test_an_observations_lmp_is_computed_under_its_gate() -> None:
    gated, ungated = _reading(True).source, _reading(False).source
    assert "'last_menstrual_period' in " in gated
    # the ungated source tests the LMP set as a value of its own, never as a gate
    assert gated.count("'last_menstrual_period' in") > ungated.count("'last_menstrual_period' in")


CODE = rir.Concept("code")
LMP = rir.InSet(CODE, "last_menstrual_period")
VALUE_DAY = rir.Day(rir.Field("valueDateTime", "str"))


def _gate(e: ir.Expr, words: frozenset[str] = frozenset()) -> code_gates.Gate | None:
    return code_gates.gate_of(e, words.__contains__, engine._Compiler({}, engine._State()).expr)


def test_a_column_only_a_code_sets_is_gated_by_that_code() -> None:
    assert _gate(ir.If(LMP, VALUE_DAY, ir.Const(None))) == code_gates.Gate(
        frozenset({(CODE, "last_menstrual_period")}), None
    )
    assert _gate(LMP) == code_gates.Gate(frozenset({(CODE, "last_menstrual_period")}), False)
    # an And False by one item: that item's tests alone
    bleeding = rir.InSet(rir.Concept("valueCodeableConcept"), "present")
    assert _gate(ir.And((LMP, bleeding))) == code_gates.Gate(
        frozenset({(CODE, "last_menstrual_period")}), False
    )


def test_a_column_a_field_can_set_or_a_set_with_words_has_no_gate() -> None:
    assert _gate(VALUE_DAY) is None
    assert _gate(ir.If(LMP, VALUE_DAY, rir.Field("issued", "str"))) is None
    assert _gate(ir.Or((LMP, ir.IsNull(VALUE_DAY)))) is None  # True when the field is absent
    assert (
        _gate(ir.If(LMP, VALUE_DAY, ir.Const(None)), frozenset({"last_menstrual_period"})) is None
    )
