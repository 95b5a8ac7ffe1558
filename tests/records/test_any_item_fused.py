"""`rir.AnyItem` written in the fused source (`python_source`): the list walked inline (shared
with the other readers of its path), the items' test called only when there is a list. The same
answers as the closures, and no call at all for a resource without the list (most resources:
the malformed-element check asks about an Observation's `component` six times)."""

from __future__ import annotations

from typing import Any

import pytest

from earlypath.records import ir as rir
from earlypath.records import python as records
from earlypath.records.python_source import Shape, closures_of, fuse
from earlypath.rules import ir

# an item without a code object; an item whose value is not a number; a nested list
NO_CODE = rir.AnyItem("component", ir.IsNull(rir.Concept("code")))
NOT_NUMBER = rir.AnyItem(
    "component",
    ir.And(
        (
            rir.Field("valueQuantity.value", "any"),
            ir.IsNull(rir.Field("valueQuantity.value", "num")),
        )
    ),
)
NESTED = rir.AnyItem("code.coding", ir.IsNull(rir.Field("code", "str")))
ROOTS = [NO_CODE, NOT_NUMBER, NESTED, ir.Or((NO_CODE, NESTED))]
RESOURCES = [
    {},
    {"component": None},
    {"component": "text"},
    {"component": {"code": {}}},
    {"component": []},
    {"component": [{"code": {}}]},
    {"component": [{"code": {}}, {"code": "text"}]},
    {"component": [1, None, "x"]},
    {"component": [{"code": {}, "valueQuantity": {"value": "7"}}]},
    {"component": [{"code": {}, "valueQuantity": {"value": 7}}]},
    {"code": {"coding": [{"code": "a"}, {"system": "s"}]}},
    {"code": {"coding": [{"code": "a"}]}},
    {"code": {"coding": {"code": "a"}}},
    {"code": "text"},
]


def _values(fused: bool, resource: dict[str, Any]) -> Any:
    compiler = records._Compiler({}, records._State(), fused)
    return compiler.fused(ROOTS, "json")(resource)


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_fused_any_item_equal_closures(resource: dict[str, Any]) -> None:
    assert _values(True, resource) == _values(False, resource)
    assert all(type(v) is bool for v in _values(True, resource))


def test_no_list_no_call() -> None:
    """The fallback closures (the items' tests) are not called for a resource without the
    list; before, each `AnyItem` was its own closure, called for every resource."""
    compiler = records._Compiler({}, records._State(), True)
    calls: list[Any] = []

    def counted(e: ir.Expr) -> Any:
        closure = compiler.expr(e)

        def call(j: Any) -> Any:
            calls.append(e)
            return closure(j)

        return call

    fn = fuse([NO_CODE, NOT_NUMBER], "json", compiler.helpers(), counted)
    assert fn({"status": "final"}) == (False, False)
    assert calls == []
    assert fn({"component": [{"code": {}}]}) == (False, False)
    assert calls  # with a list, the items are tested


def test_items_listed_only_for_a_resource_with_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated reading lists a resource's items (`ItemRows`: a panel's components) only
    when it has some; a resource without them is read as itself, with no call (before, every
    Observation went through `with_its_items`). A panel's components are still read."""
    from earlypath.records import python_reading
    from earlypath.records.definition import READING
    from tests.integration.fhir_data import TODAY
    from tests.records.panel_vignettes import woman_with_panel

    listed: list[Any] = []
    real = python_reading.with_its_items

    def counted(resource: dict[str, Any], items: Any) -> Any:
        listed.append(resource.get("id"))
        return real(resource, items)

    monkeypatch.setattr(python_reading, "with_its_items", counted)
    monkeypatch.setattr(records, "_compiled", {})  # generated again, with the counted helper
    weight = {"resourceType": "Observation", "id": "w", "status": "final", "code": {}}
    empty = {**weight, "id": "e", "component": []}
    reading = records.read(READING, [weight, empty, *woman_with_panel("crl")], TODAY)
    assert listed == ["us-panel"]
    assert reading.values["dating_crl_mm"] == 9.5


SHAPES = [
    Shape(),
    Shape(single=True),
    Shape(names=("a", "b", "c", "d")),
    Shape(flags=True),
    Shape(names=("b", "c", "d"), guarded=True),
]


@pytest.mark.parametrize("shape", SHAPES, ids=["tuple", "single", "names", "flags", "guarded"])
def test_the_fused_function_and_its_fallback_take_one_shape(
    shape: Shape, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fuse` and the closures it falls back on should a resource raise (`closures_of`) are given
    the same `Shape`, one object: each shape's answers are the fused function's, the fallback's
    and the closures' alike, for every resource."""
    from earlypath.records import python_source

    compiler = records._Compiler({}, records._State(), True)
    slow: list[Any] = []
    defined = python_source._defined

    def kept(text: str, names: dict[str, Any], fallback: Any, where: str) -> Any:
        slow.append(fallback)
        return defined(text, names, fallback, where)

    monkeypatch.setattr(python_source, "_defined", kept)
    roots = ROOTS[:1] if shape.single else ROOTS
    fn = fuse(roots, "json", compiler.helpers(), compiler.expr, shape)
    closures = closures_of(roots, compiler.expr, shape)
    for resource in RESOURCES:
        assert fn(resource) == slow[0](resource) == closures(resource), (shape, resource)
