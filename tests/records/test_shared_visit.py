"""An Observation without components is read by its row specs through one source (stop 37,
`python_reading._Generator.shared_visit`): its malformed check and its clinical row read the
same elements (status, code, dates, subject, the versions' look-ups), each read once; a panel
is read as before, by the item spec's loop. What each reads is unchanged (the agreement
tests of `test_generated_reading.py`, and the records below, generated against the
closures)."""

from __future__ import annotations

import copy
import dataclasses
import re
from types import SimpleNamespace
from typing import Any

import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import python as engine
from earlypath.records import python_reading
from earlypath.records.definition import READING
from tests.integration import fhir_data as f
from tests.records import panel_member_shapes as panel_members
from tests.records.panel_vignettes import woman_with_panel
from tests.records.test_generated_reading import _generated, _same


def _observation_function() -> list[str]:
    """The lines of the generated function reading an Observation's clinical row."""
    source = _generated().source.split("\n")
    starts = [
        i
        for i, line in enumerate(source)
        if line.startswith("def read_type")
        and line.endswith("# Observation")
        and "t_clinical" in line
        and "t_malformed" in line
    ]
    assert len(starts) == 1, starts
    body = []
    for line in source[starts[0] + 1 :]:
        if not line.startswith(" "):
            break
        body.append(line)
    return body


def _without_items(body: list[str]) -> list[str]:
    """The branch for a resource without items (the function's top-level ``else:``)."""
    at = body.index("    else:")
    out = []
    for line in body[at + 1 :]:
        if not line.startswith("        "):
            break
        out.append(line)
    return out


def test_an_observation_without_components_reads_each_element_once() -> None:
    body = _observation_function()
    alone = _without_items(body)
    for element in ("status", "code", "subject", "effectiveDateTime", "valueQuantity"):
        assert sum(line.count(f"j.get({element!r})") for line in alone) == 1, element
    # the panel's branch reads them in the item spec's loop and again for the resource
    panel = body[: body.index("    else:")]
    assert sum(line.count("j.get('subject')") for line in panel) == 2


def test_a_value_each_spec_reads_once_is_not_computed_before_both_conditions() -> None:
    """The held version's look-up is read once by the malformed check and once by the
    clinical row's condition, each behind tests rarely passed: not a statement computed for
    every Observation."""
    alone = _without_items(_observation_function())
    statement = re.compile(r"^        w\d+_\d+ = \(None if \(w\d+_\d+ := jx\d+\.get\(")
    assert not [line for line in alone if statement.match(line) and "'held'" in line]
    assert any("'held'" in line for line in alone)  # still read, where the tests reach it


def _observation_specs() -> list[Any]:
    rows = engine._compile_spec(READING).rows
    return [
        r
        for r in rows
        if r.spec.resource == "Observation" and r.spec.table in {"clinical", "malformed"}
    ]


def test_the_specs_read_together_keep_each_tables_order() -> None:
    specs = _observation_specs()
    # ... the held versions' rows: with a location read, and naming a loss (stop 49)
    items, members, malformed, held, held_loss = specs
    assert items.spec.items is not None and held.spec.items is None
    assert held_loss.spec.items is None
    assert members.spec.items is not None and members.spec.items.path == "contained"
    tables = {r.spec.table for r in engine._compile_spec(READING).rows}
    gen = SimpleNamespace(tables=tables)
    # the held version's rows join a table: read after them, as before; a panel's
    # contained members (stop 43) read in their own loop, after the item spec (stop 44)
    assert python_reading._Generator.shared_visit(gen, specs) == (items, [malformed], [members])
    # a spec read alone filling the item spec's table would come before it: not shared
    same_table = dataclasses.replace(
        malformed, spec=dataclasses.replace(malformed.spec, table="clinical")
    )
    assert python_reading._Generator.shared_visit(gen, [items, same_table]) is None
    assert python_reading._Generator.shared_visit(gen, [items]) is None
    # the members alone, with no item spec reading the resource itself: not shared
    assert python_reading._Generator.shared_visit(gen, [members, malformed]) is None


def test_an_observation_without_components_is_read_with_its_members_loop_after() -> None:
    """The shared source stays with a panel's contained members read (stop 44: stop 43's
    second item spec on the Observation turned it off): their loop comes once, after both
    branches, entered only when the Observation has a `contained` list."""
    body = _observation_function()
    at = body.index("    else:")
    after = [line for line in body[at + 1 :] if not line.startswith("        ")]
    assert any(line.endswith(".get('contained')") for line in after), after


@pytest.mark.parametrize("shape", sorted(panel_members.SHAPES))
def test_a_panel_with_contained_members_is_read_as_the_closures_read_it(shape: str) -> None:
    _same([*panel_members.SHAPES[shape], *woman_with_panel("crl")], f.TODAY, None, None)


def _malformed_observation(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(f.crl(9.5))
    out.update(changes)
    return out


@pytest.mark.parametrize(
    "resource",
    [
        _malformed_observation(status=3),
        _malformed_observation(subject="Patient/x"),
        _malformed_observation(code=["not", "an", "object"]),
        _malformed_observation(component="not a list"),
        _malformed_observation(component=[]),
        _malformed_observation(effectiveDateTime=20240301),
        _malformed_observation(valueQuantity={"value": "9.5", "unit": "mm"}),
        _malformed_observation(id=7),
    ],
    ids=["status", "subject", "code", "component-text", "component-empty", "date", "value", "id"],
)
def test_a_malformed_observation_is_read_as_the_closures_read_it(resource) -> None:
    _same([*f.eligible_resources(), resource], f.TODAY, None, None)


def test_a_panel_beside_ordinary_observations_is_read_as_the_closures_read_it() -> None:
    _same([*woman_with_panel("crl"), *f.eligible_resources()], f.TODAY, None, None)
