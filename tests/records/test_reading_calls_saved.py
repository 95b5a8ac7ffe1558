"""The generated reading calls no Python function where the answer is known without it (stop 24,
sixteenth CDS pass): an aggregate inside an expression over a table with no rows (its value
over none is known; most records have no requests or statements), a row's ``ref`` where the
object's resource type is known (written out, as `python._ref` writes it), and the rows'
sort keys (in C). The same answers as the closures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import ir as rir
from earlypath.records import python as engine
from earlypath.records.definition import READING
from earlypath.rules import ir
from tests.integration import fhir_data as f

_OPS: tuple[rir.AggOp, ...] = ("any", "all", "max", "min", "count_distinct", "latest", "collect")


def _over_requests(op: rir.AggOp, evidence: str | None) -> rir.Agg:
    value = ir.IsTrue(rir.Col("progesterone")) if op in ("any", "all") else rir.Col("authored")
    order = (rir.Col("authored"), rir.Col("n"))
    return rir.Agg(op, "requests", ir.Const(True), value, order=order, evidence=evidence)


# every kind of aggregate inside an expression (a function beside the reading), its evidence
# noted or not
NESTED = dataclasses.replace(
    READING,
    steps=(
        *READING.steps,
        *(
            (f"{op}_{noted}", ir.Coalesce((_over_requests(op, noted or None), ir.Const("none"))))
            for op in _OPS
            for noted in ("", "noted")
        ),
    ),
)


def _order(rid: str, authored: str) -> dict[str, Any]:
    return {**f.progesterone_order(rid), "status": "active", "authoredOn": authored}


NO_REQUESTS = f.eligible_resources()
REQUESTS = [*f.eligible_resources(), _order("o1", f.day(-1)), _order("o2", f.day())]


def _generated(spec: rir.EpisodeSpec) -> Any:
    generated = engine._compile_spec(spec).generated
    assert generated is not None
    return generated


@contextmanager
def _aggregates_raise(spec: rir.EpisodeSpec) -> Iterator[int]:
    """The aggregate functions beside the reading replaced by one that raises (the generated
    reading then answers None: the closures read the record); how many were replaced."""
    names = _generated(spec).__closure__[0].cell_contents.__globals__
    kept = {k: v for k, v in names.items() if re.fullmatch(r"agg\d+", k)}

    def called(*_: Any) -> Any:
        raise RuntimeError("an aggregate function was called")

    names.update(dict.fromkeys(kept, called))
    try:
        yield len(kept)
    finally:
        names.update(kept)


def test_an_aggregate_over_no_rows_is_not_called() -> None:
    """With no requests and no statements, not one aggregate function runs, and the reading
    still answers (with requests, the functions over them are called: the guard is the rows')."""
    with _aggregates_raise(NESTED) as replaced:
        assert replaced >= 6 + 2 * len(_OPS)  # on_progesterone's six, and this test's
        assert _generated(NESTED)(NO_REQUESTS, f.TODAY, None, None) is not None
        assert _generated(NESTED)(REQUESTS, f.TODAY, None, None) is None


@pytest.mark.parametrize("record", [NO_REQUESTS, REQUESTS], ids=["no requests", "requests"])
def test_aggregates_over_no_rows_and_some_read_as_the_closures(record: list[Any]) -> None:
    for assessed_on in (f.TODAY, f.TODAY + dt.timedelta(days=30)):
        got = _generated(NESTED)(record, assessed_on, None, None)
        assert got is not None
        reference = engine.read(NESTED, record, assessed_on, fused=False)
        values, problems, evidence = got
        assert values == reference.values
        for op in _OPS:  # their types too: 0 is not False, [] is not None
            for noted in ("", "noted"):
                name = f"{op}_{noted}"
                assert type(values[name]) is type(reference.values[name]), name
        assert problems == reference.problems
        assert list(evidence.items()) == list(reference.evidence.items())


def test_a_collect_over_no_rows_is_a_new_list_each_time() -> None:
    first = _generated(NESTED)(NO_REQUESTS, f.TODAY, None, None)
    second = _generated(NESTED)(NO_REQUESTS, f.TODAY, None, None)
    assert first[0]["collect_"] == [] and first[0]["collect_"] is not second[0]["collect_"]


# --- a row's ref --------------------------------------------------------------------------------

_IDS: list[Any] = ["x-1", "", "a/b", 7, 1.5, True, None, ["x"], {"id": "x"}]


@pytest.mark.parametrize("kind", ["Observation", "Condition", "MedicationRequest", "Patient"])
def test_a_ref_written_out_is_the_one_ref_gives(kind: str) -> None:
    code = engine._ref_code(kind, "j", "rid")
    objects = [{"resourceType": kind, "id": i} for i in _IDS] + [{"resourceType": kind}]
    for j in objects:
        assert eval(code, {}, {"j": j}) == engine._ref(j), j  # noqa: S307 - our own source


def test_the_reading_calls_ref_only_for_an_item_read_with_its_container() -> None:
    """Type functions write a row's ref out; a contained finding (its own type and id, the
    report's ref) still goes through `ref_source` and REF."""
    source = _generated(READING).source
    calls = re.findall(r"REF\(([^)]*)", source)
    assert calls, "the contained findings' refs"
    assert all(re.fullmatch(r"k\d+\(j, k\d+", c) for c in calls), calls
    assert "'Observation/' + " in source and "'Condition/' + " in source


def test_which_item_rows_keep_the_resource_type() -> None:
    from earlypath.records.python_reading import _keeps_type

    assert _keeps_type(rir.ItemRows("component", ("code", "valueQuantity")))
    assert _keeps_type(rir.ItemRows("conclusionCode", (), whole="code"))
    assert not _keeps_type(rir.ItemRows("contained", (), container="_report"))
    assert not _keeps_type(rir.ItemRows("component", ("resourceType", "code")))
    assert not _keeps_type(rir.ItemRows("component", (), whole="resourceType"))
    then = rir.ItemRows("component", ("code",), then=rir.ItemRows("contained", (), container="r"))
    assert not _keeps_type(then)
    nested = rir.ItemRows("part", ("code",), then=rir.ItemRows("component", ("code",)))
    assert _keeps_type(nested)


def test_the_rows_are_sorted_by_keys_in_c() -> None:
    names = _generated(READING).__closure__[0].cell_contents.__globals__
    assert type(names["BY_N"]) is operator.itemgetter
    assert type(names["FIRST"]) is operator.itemgetter
    rows = [{"n": 3}, {"n": 1}, {"n": 2}]
    assert sorted(rows, key=names["BY_N"]) == sorted(rows, key=lambda row: row["n"])
    checked = [(2, 0, "b"), (1, 1, "c"), (1, 0, "a")]
    assert [p for *_, p in sorted(checked, key=names["FIRST"])] == ["a", "c", "b"]
