"""The generated reading does per call only the work that depends on the record: no function is
defined inside it (an aggregate read inside an expression is a function written once beside it,
given the reading's locals it reads as arguments), and a day of the scans is reduced in one pass
over its rows for every column. The same answers as the closures, with aggregates nested in
aggregates and in problems (what those arguments must carry)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import ir as rir
from earlypath.records import python as engine
from earlypath.records.definition import READING
from earlypath.rules import ir
from tests.integration import fhir_data as f


def _source(spec: rir.EpisodeSpec = READING) -> str:
    generated = engine._compile_spec(spec).generated
    assert generated is not None
    return generated.source  # type: ignore[attr-defined, no-any-return]


def _aggregate_functions(source: str) -> int:
    return len(re.findall(r"^def agg\d+\(", source, re.MULTILINE))


def _body_of_reading(source: str) -> str:
    start = source.index("\ndef reading(")
    end = source.find("\ndef ", start + 1)
    return source[start : end if end >= 0 else len(source)]


def test_the_reading_defines_no_function_per_call() -> None:
    """Every ``def`` of the source is at its top level (defined once, when it is compiled),
    none inside the reading, and the aggregates inside expressions are there."""
    source = _source()
    assert _aggregate_functions(source) > 0  # on_progesterone's are inside an expression
    assert "    def " not in source
    assert " lambda" not in _body_of_reading(source)


def test_a_day_of_scans_is_reduced_in_one_pass_over_its_rows() -> None:
    days = [e for _, e in READING.steps if isinstance(e, rir.Days)]
    assert days and any(len(e.columns) > 1 for e in days)
    assert _source().count("for row, vals in listed:") == len(days)


def _order(rid: str, authored: str, status: str = "active") -> dict[str, Any]:
    return {**f.progesterone_order(rid), "status": status, "authoredOn": authored}


def _inner(evidence: str | None) -> rir.Agg:
    """Requests authored from the pregnancy's start to the assessment day (reads two steps
    and the context: the arguments the functions around it must pass on)."""
    authored = rir.Col("authored")
    return rir.Agg(
        "any",
        "requests",
        ir.And(
            (
                ir.IsTrue(ir.Cmp("<=", authored, rir.Ctx("assessed_on"))),
                ir.Not(ir.IsTrue(ir.Cmp("<", authored, rir.Ctx("window_start")))),
            )
        ),
        ir.Const(True),
        evidence=evidence,
    )


NESTED = dataclasses.replace(
    READING,
    steps=(
        *READING.steps,
        (
            # an aggregate inside an expression, whose own condition holds another aggregate
            "nested",
            ir.Not(
                ir.IsNull(
                    rir.Agg(
                        "max",
                        "clinical",
                        ir.And((ir.IsTrue(rir.Col("bleeding_code")), ir.IsTrue(_inner("inner")))),
                        rir.Col("day"),
                        evidence="outer",
                    )
                )
            ),
        ),
    ),
    problems=(
        *READING.problems,
        rir.RowProblem(
            "clinical",
            ir.And((ir.IsTrue(rir.Col("bleeding_code")), ir.IsTrue(_inner(None)))),
            rir.Message.of("bleeding with a request this pregnancy, on ", rir.Col("day")),
        ),
    ),
)

RECORDS = {
    "eligible": f.eligible_resources(),
    "a request today": [*f.eligible_resources(), _order("o1", f.day())],
    "a request before the window": [*f.eligible_resources(), _order("o2", "2019-01-01")],
    "requests, no bleeding": [f.lmp(), f.iup(), _order("o3", f.day(-2)), _order("o4", f.day())],
    "no date": [*f.eligible_resources(), _order("o5", "2026")],
}


@pytest.mark.parametrize("name", RECORDS)
def test_aggregates_nested_in_aggregates_and_problems_read_as_the_closures(name: str) -> None:
    # the outer aggregate, the one in its condition, the one in the problem's condition
    assert _aggregate_functions(_source(NESTED)) == _aggregate_functions(_source()) + 3
    for assessed_on in (f.TODAY, f.TODAY + dt.timedelta(days=30)):
        generated = engine._compile_spec(NESTED).generated
        assert generated is not None
        got = generated(RECORDS[name], assessed_on, None, None)
        assert got is not None  # answered by the generated function itself
        reference = engine.read(NESTED, RECORDS[name], assessed_on, fused=False)
        values, problems, evidence = got
        assert values == reference.values
        assert problems == reference.problems
        assert list(evidence.items()) == list(reference.evidence.items())


def _unnoted(op: rir.AggOp, value: ir.Expr) -> rir.Agg:
    """An aggregate over the clinical rows whose evidence is not noted (ordered by day, then the
    input order, for latest)."""
    order = (rir.Col("day"), rir.Col("n"))
    return rir.Agg(op, "clinical", ir.Const(True), value, order=order)


UNNOTED = rir.EpisodeSpec(
    rows=READING.rows,
    steps=(
        ("bleeding_any", _unnoted("any", rir.Col("bleeding"))),
        ("bleeding_all", _unnoted("all", rir.Col("bleeding"))),
        ("last_day", _unnoted("max", rir.Col("day"))),
        ("first_day", _unnoted("min", rir.Col("day"))),
        ("days", _unnoted("count_distinct", rir.Col("day"))),
        ("all_days", _unnoted("collect", rir.Col("day"))),
        ("latest_mm", _unnoted("latest", rir.Col("mm"))),
        # inside an expression: a function beside the reading
        ("any_mm", ir.Not(ir.IsNull(_unnoted("max", rir.Col("mm"))))),
    ),
)


def test_an_aggregate_whose_evidence_is_not_noted_lists_no_rows() -> None:
    """Its rows would only be noted as evidence: the reading keeps none of them (no list, no
    append a row), and gives the closures' values for every kind of aggregate."""
    source = _source(UNNOTED)
    assert "append(row)" not in _body_of_reading(source)
    assert "append(row)" not in source.split("\ndef reading(")[0].split("def read_type")[0]
    copies = [{**r, "id": f"{r['id']}-copy"} for r in f.eligible_resources()]
    records = [
        *RECORDS.values(),
        [*f.eligible_resources(), *copies],
        [f.crl(7.5, on=f.day(-3)), f.crl(8.0), f.bleeding(on=f.day(-1))],
    ]
    for record in records:
        got = engine._compile_spec(UNNOTED).generated(record, f.TODAY, None, None)  # type: ignore[misc]
        assert got is not None
        reference = engine.read(UNNOTED, record, f.TODAY, fused=False)
        assert got[0] == reference.values
        assert got[2] == reference.evidence == {}
