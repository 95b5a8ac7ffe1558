"""The aggregates of the records IR's episode layer (`earlypath.records.ir.Agg`), over the rows
an engine has chosen: each gives its value and the rows it rests on (the evidence)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Fn = Callable[[Any], Any]


@dataclass
class Scope:
    """One encounter's reading: what an episode-layer closure reads (the context: assessed_on,
    encounter, earlier steps; and the row being aggregated), the rows of its patient, and the
    evidence noted (episode fact -> refs)."""

    ctx: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    scoped: frozenset[str] = frozenset()  # the tables whose rows belong to a patient
    patient: str | None = None  # None: every row (one patient's record, as in a CDS call)
    row: dict[str, Any] | None = None
    evidence: dict[str, list[str]] = field(default_factory=dict)
    chosen: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def rows_of(self, table: str) -> list[dict[str, Any]]:
        """The rows of ``table`` for this encounter's patient (found once per reading)."""
        rows = self.chosen.get(table)
        if rows is None:
            rows = self.tables.get(table, [])
            if self.patient is not None and table in self.scoped:
                rows = [row for row in rows if row["patient"] == self.patient]
            self.chosen[table] = rows
        return rows

    def note(self, fact: str, rows: list[dict[str, Any]]) -> None:
        note_rows(self.evidence, fact, rows)


def note_rows(evidence: dict[str, list[str]], fact: str, rows: list[dict[str, Any]]) -> None:
    """The rows' refs listed under ``fact``, each once, in the order first noted."""
    if not rows:
        return
    refs = evidence.setdefault(fact, [])
    for row in rows:
        ref = row.get("ref")
        if ref is not None and ref not in refs:
            refs.append(ref)


def note_rows_at(evidence: dict[str, list[str]], fact: str, rows: list[list[Any]], at: int) -> None:
    """`note_rows` of rows held as lists (the generated reading's), their ref at ``at``."""
    if not rows:
        return
    refs = evidence.setdefault(fact, [])
    for row in rows:
        ref = row[at]
        if ref is not None and ref not in refs:
            refs.append(ref)


Item = tuple[dict[str, Any], Any, tuple[Any, ...]]  # a chosen row, its value, its order


def _order_key(item: Item) -> tuple[Any, ...]:
    # None sorts below every value, so a known value is always the latest
    return tuple((False, 0) if v is None else (True, v) for v in item[2])


def reducer(op: str) -> Callable[[list[Item]], tuple[Any, list[dict[str, Any]]]]:
    """The aggregate ``op`` over the chosen rows' items -> (its value, the rows it rests on)."""
    if op in ("any", "all"):
        stop = op == "any"

        def kleene(items: list[Item]) -> tuple[Any, list[dict[str, Any]]]:
            found = [(v, row) for row, v, _ in items if v is not None]
            if not found:
                return None, []
            deciding = [row for v, row in found if bool(v) is stop]
            if deciding:
                return stop, deciding
            return not stop, [row for _, row in found]

        return kleene
    if op in ("max", "min"):
        pick = max if op == "max" else min

        def extreme(items: list[Item]) -> tuple[Any, list[dict[str, Any]]]:
            found = [(v, row) for row, v, _ in items if v is not None]
            if not found:
                return None, []
            return pick(v for v, _ in found), [row for _, row in found]

        return extreme
    if op == "count_distinct":

        def count_distinct(items: list[Item]) -> tuple[Any, list[dict[str, Any]]]:
            found = [(v, row) for row, v, _ in items if v is not None]
            return len({v for v, _ in found}), [row for _, row in found]

        return count_distinct
    if op == "latest":

        def latest(items: list[Item]) -> tuple[Any, list[dict[str, Any]]]:
            if not items:
                return None, []
            best = max(items, key=_order_key)  # of equal orders, the first
            return best[1], [best[0]]

        return latest
    if op == "collect":

        def collect(items: list[Item]) -> tuple[Any, list[dict[str, Any]]]:
            found = [(v, row) for row, v, _ in items if v is not None]
            return [v for v, _ in found], [row for _, row in found]

        return collect
    raise ValueError(f"records IR: no aggregate {op!r}")


One = Callable[[dict[str, Any], Any], tuple[Any, list[dict[str, Any]]]]


def reducer_of_one(op: str) -> One:
    """What ``reducer(op)`` gives for the item of a single row (the commonest case: one finding
    on a day), from the row and its value, without building the list of items. Orders do not
    matter: one row is the latest."""
    reducer(op)  # the same names, refused the same way
    if op in ("any", "all"):
        # the one value decides, either way
        return lambda row, v: (None, []) if v is None else (bool(v), [row])
    if op == "count_distinct":
        return lambda row, v: (0, []) if v is None else (1, [row])
    if op == "collect":
        return lambda row, v: ([], []) if v is None else ([v], [row])
    if op == "latest":
        return lambda row, v: (v, [row])  # the one row is the latest, even when its value is None
    return lambda row, v: (None, []) if v is None else (v, [row])  # max, min
