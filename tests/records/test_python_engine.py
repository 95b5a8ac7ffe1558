"""The Python records engine runs every node as the records IR says (tests/records/node_cases.py),
and keeps the evidence the cards show."""

from __future__ import annotations

import pytest

from earlypath.records import python as engine
from earlypath.records.ir import Agg, Col, Concept, EpisodeSpec, Field, InSet, RowSpec
from earlypath.rules.ir import Const
from tests.records.node_cases import ASSESSED_ON, BLEEDING, CASES, Case


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "closures"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_node_semantics(case: Case, fused: bool) -> None:
    """Both paths of the engine: the fused functions and the closures they fall back on."""
    reading = engine.read(
        case.spec, case.resources, case.assessed_on, case.encounter, case.patient, fused=fused
    )
    for name, expected in case.expect.items():
        got = reading.values[name]
        assert got == expected, name
        assert _types(got) == _types(expected), name  # True is not 1, 2.0 is not 2
    if case.problems is not None:
        assert [(p.field, p.message) for p in reading.problems] == list(case.problems)


def _types(value: object) -> object:
    if isinstance(value, list):
        return [_types(v) for v in value]
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    return type(value)


SPEC = EpisodeSpec(
    rows=(
        RowSpec(
            "t",
            "Observation",
            InSet(Concept("code"), "bleeding"),
            None,
            (("b", Field("valueBoolean", "bool")),),
        ),
    ),
    steps=(
        ("any", Agg("any", "t", Const(True), Col("b"), evidence="bleeding")),
        ("latest", Agg("latest", "t", Const(True), Col("b"), (Col("n"),), evidence="last")),
    ),
)


def _obs(rid: str, value: bool | None) -> dict:
    out = {"resourceType": "Observation", "id": rid, "code": {"coding": [BLEEDING]}}
    if value is not None:
        out["valueBoolean"] = value
    return out


def test_evidence_names_the_rows_an_aggregate_rests_on() -> None:
    reading = engine.read(SPEC, [_obs("1", False), _obs("2", True), _obs("3", None)], ASSESSED_ON)
    assert reading.values == {"any": True, "latest": None}
    # any: the rows that decided it; latest: the row chosen
    assert reading.evidence == {"bleeding": ["Observation/2"], "last": ["Observation/3"]}


def test_evidence_of_a_false_any_is_every_row_with_a_value() -> None:
    reading = engine.read(SPEC, [_obs("1", False), _obs("3", None)], ASSESSED_ON)
    assert reading.values["any"] is False
    assert reading.evidence["bleeding"] == ["Observation/1"]


def test_a_reading_starts_clean() -> None:
    engine.read(SPEC, [_obs("1", True)], ASSESSED_ON)
    reading = engine.read(SPEC, [], ASSESSED_ON)
    assert reading.values == {"any": None, "latest": None}
    assert reading.evidence == {}


def test_unknown_node_is_refused_at_compile_time() -> None:
    from earlypath.rules.ir import Fact

    spec = EpisodeSpec(rows=(), steps=(("x", Fact("lmp", "date")),))
    with pytest.raises(TypeError, match="Fact"):
        engine.read(spec, [], ASSESSED_ON)
