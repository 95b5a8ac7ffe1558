"""A value of a row that several loops of the generated reading compute is computed once a row
(fourteenth CDS pass, `python_reading._Generator.row_value`): where a clinical row falls on the
pregnancy timeline was computed by three loops over the clinical rows and again in the
problems' messages; the first loop that computes it now keeps it in the row and the later ones
read it back. Only values of the row and of steps already computed (the same in every loop),
only in the reading's own loops. The same answers as the closures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

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


def _kept(spec: rir.EpisodeSpec = READING) -> str:
    """A pattern of the subscript of a value a clinical row keeps: its position (the rows are
    lists, seventeenth pass: `_Generator.list_layouts`), or its name in a dict row."""
    generated = engine._compile_spec(spec).generated
    assert generated is not None
    layout = generated.layouts.get("clinical", {})  # type: ignore[attr-defined]
    at = sorted(str(i) for name, i in layout.items() if name.startswith("~"))
    return "(" + "|".join([*at, r"'~\d+'"]) + ")"


def _body_of_reading(source: str) -> str:
    start = source.index("\ndef reading(")
    end = source.find("\ndef ", start + 1)
    return source[start : end if end >= 0 else len(source)]


def test_a_rows_place_on_the_timeline_is_computed_once() -> None:
    body = _body_of_reading(_source())
    kept = _kept()
    stored = set(re.findall(rf"row\[{kept}\] = ", body))
    read = set(re.findall(rf"row\[{kept}\](?! =)", body))
    assert stored and read <= stored and stored <= read  # each kept value is read again
    # the test "on or after the pregnancy's start" of a row's place, in one loop only (it was
    # in three loops over the clinical rows, and in each message naming a row's place): once for
    # its day, and (stop 24) once each for the first and last day of a partial date's span.
    # A place is the conditional "future if undated/after the day else (before if ...": its head
    # is matched, not its "on or after the start" comparison, which the writer may hoist into a
    # value of its own when another step compares the same day (stop 25's span test did)
    place = re.compile(r"\(k\d+ if \(v\d+_\d+\) else \(\(k\d+ if ")
    loops = body.split("\n    for row in ")[1:]
    over_clinical = [loop for loop in loops if loop.startswith("rows_clinical:")]
    assert len(over_clinical) >= 3
    counts = [len(place.findall(loop)) for loop in over_clinical]
    assert sum(counts) == 3
    assert max(counts) == 3  # all in one loop


# A spec whose two loops over the clinical rows compute one value (a day's distance to the
# assessment, within a window that a step between them computes), a step set twice (so the
# values are not kept), and a problem naming it
_NEAR = ir.IsTrue(
    ir.Cmp(
        "<=",
        ir.DaysBetween(rir.Col("day"), rir.Ctx("assessed_on")),
        ir.Arith("+", rir.Ctx("window"), ir.Const(0)),
    )
)
SPEC = rir.EpisodeSpec(
    rows=tuple(r for r in READING.rows if r.table == "clinical"),
    steps=(
        ("window", ir.Const(40)),
        ("near_any", rir.Agg("any", "clinical", _NEAR, ir.Const(True), evidence="near")),
        ("first", rir.Agg("min", "clinical", ir.Const(True), rir.Col("day"))),
        ("near_first", rir.Agg("max", "clinical", _NEAR, rir.Col("day"), evidence="first")),
        (
            "late",
            rir.Agg(
                "count_distinct",
                "clinical",
                ir.And((_NEAR, ir.IsTrue(ir.Cmp(">", rir.Col("day"), rir.Ctx("first"))))),
                rir.Col("day"),
            ),
        ),
    ),
    problems=(
        rir.RowProblem(
            "clinical",
            ir.And((_NEAR, ir.Not(ir.IsNull(rir.Col("mm"))))),
            rir.Message.of("near, ", ir.DaysBetween(rir.Col("day"), rir.Ctx("assessed_on"))),
        ),
    ),
)
TWICE = dataclasses.replace(SPEC, steps=(*SPEC.steps, ("window", ir.Const(3))))

RECORDS = {
    "eligible": f.eligible_resources(),
    "crls": [f.crl(7.5, on=f.day(-3)), f.crl(8.0), f.bleeding(on=f.day(-50))],
    "undated": [{**f.crl(8.0), "effectiveDateTime": "2026"}, f.bleeding()],
    "none": [],
}


def test_the_shared_value_is_kept_by_the_first_loop_only() -> None:
    body = _body_of_reading(_source(SPEC))
    assert re.search(rf"row\[{_kept(SPEC)}\] = ", body)
    assert not re.search(r"row\[[^\]]+\] = ", _source(TWICE))  # a step set twice: none kept


@pytest.mark.parametrize("name", RECORDS)
@pytest.mark.parametrize("spec", [SPEC, TWICE, READING], ids=["kept", "twice", "reading"])
def test_kept_values_read_as_the_closures(name: str, spec: rir.EpisodeSpec) -> None:
    for assessed_on in (f.TODAY, f.TODAY + dt.timedelta(days=45)):
        generated = engine._compile_spec(spec).generated
        assert generated is not None
        got = generated(RECORDS[name], assessed_on, None, None)
        assert got is not None  # answered by the generated function itself
        reference = engine.read(spec, RECORDS[name], assessed_on, fused=False)
        values, problems, evidence = got
        assert values == reference.values
        assert problems == reference.problems
        assert list(evidence.items()) == list(reference.evidence.items())
