"""A definition's answers kept per spec object (`earlypath.records.spec_memos`): each warm
reading asked them again (stop 49); kept, the answer must be the one computed afresh."""

from __future__ import annotations

from dataclasses import dataclass, field

from earlypath.audit.fhir_flat import AUDIT_READING
from earlypath.records.ibis_compile import ReadSchema, _read_schema_of, read_schema
from earlypath.records.needed_joins import _every_joined, never_found
from earlypath.records.spec_memos import by_identity


@dataclass(frozen=True)
class _Frozen:
    name: str


@dataclass
class _Mutable:
    names: list[str] = field(default_factory=list)


def test_a_frozen_spec_s_answer_is_computed_once_and_a_mutable_one_s_every_time() -> None:
    calls: list[object] = []

    def count(spec: object) -> int:
        calls.append(spec)
        return len(calls)

    kept = by_identity(count)
    frozen, mutable = _Frozen("a"), _Mutable()
    assert [kept(frozen), kept(frozen)] == [1, 1]
    assert kept(_Frozen("a")) == 2  # another object, equal or not: its own answer
    assert [kept(mutable), kept(mutable)] == [3, 4]
    rows = (frozen, _Frozen("b"))
    assert kept(rows) == kept(rows) == 5  # a tuple of frozen specs is frozen too


def test_each_caller_gets_its_own_copy_of_a_mutable_answer() -> None:
    first = read_schema(AUDIT_READING)
    first["Observation"].leaves["not.read"] = {"str"}
    first["Observation"].worded.add("not.read")
    again = read_schema(AUDIT_READING)
    assert "not.read" not in again["Observation"].leaves
    assert "not.read" not in again["Observation"].worded
    assert again == _read_schema_of(AUDIT_READING)
    assert all(isinstance(s, ReadSchema) for s in again.values())


def test_the_kept_answers_are_the_fresh_ones() -> None:
    absent = frozenset({"Medication", "Procedure"})
    assert never_found(AUDIT_READING.rows, absent) == never_found(list(AUDIT_READING.rows), absent)
    assert _every_joined(AUDIT_READING.rows) == _every_joined(tuple(AUDIT_READING.rows))
