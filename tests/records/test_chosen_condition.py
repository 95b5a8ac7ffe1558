"""With some (patient, id) repeated, a row spec's condition is the joined rows' where the pair
repeats and the resource's own row's elsewhere (`own_rows._chosen`). It was one `If` around the
two whole conditions: a CASE in the rows' filter, computing an Observation's every test (the
value sets', the hCG words' and units' regular expressions) as a value on every row. Now the
`If` is taken inside the And and Or the two share, around the parts that differ only (the
versions' tests), and the filter's shared parts stay bare (stop 39, docs/speed.md FHIR round
30). The same value, Unknown included: every assignment of the facts below; the rows read the
same with versions: test_own_rows.py, test_engines_agree.py."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from typing import Any

from earlypath.engines.evaluate import compile_expr
from earlypath.records import ir as rec
from earlypath.records.definition import READING
from earlypath.records.own_rows import _picked_within, inline_own_rows, joined_keys, safe_repeated
from earlypath.rules import ir

A, B, C, D, T = (ir.Fact(n, "bool") for n in "abcdt")


def _pairs_test(node: Any) -> bool:
    """Is ``node`` an `If` on whether the resource's (patient, id) repeats?"""
    return isinstance(node, ir.If) and any(
        isinstance(n, rec.Joined) and n.table.endswith("__repeated") for n, _ in _nodes(node.cond)
    )


def _nodes(node: Any, chosen: bool = False) -> Iterator[tuple[Any, bool]]:
    """Each IR node of ``node`` with whether an `If` on the pairs' test holds it."""
    yield node, chosen
    if isinstance(node, tuple):
        for v in node:
            yield from _nodes(v, chosen)
    elif isinstance(node, ir.Expr):
        for name in node.__dataclass_fields__:
            yield from _nodes(getattr(node, name), chosen or _pairs_test(node))


def test_the_if_is_taken_inside_what_the_two_conditions_share() -> None:
    joined = ir.And((A, ir.Or((B, C))))
    own = ir.And((A, ir.Or((B, D))))
    picked = _picked_within(joined, own, T)
    assert picked == ir.And((A, ir.Or((B, ir.If(T, C, D)))))
    whole, within = compile_expr(ir.If(T, joined, own)), compile_expr(picked)
    for values in itertools.product((True, False, None), repeat=5):
        facts = dict(zip("abcdt", values, strict=True))
        assert within(facts) == whole(facts), facts
    # shapes that differ (another node, another length) are one If, as before
    assert _picked_within(A, ir.Or((A, B)), T) == ir.If(T, A, ir.Or((A, B)))
    assert _picked_within(joined, joined, T) == joined


def test_the_observations_tests_are_no_case_with_versions_repeated() -> None:
    """The clinical Observation rows' condition with every version table repeated: its
    value-set and status tests are outside any If (each tested on the rows still undecided);
    what differs between the joined and the own row is inside one."""
    keys = joined_keys(READING)
    repeated = safe_repeated(READING, frozenset(keys))
    # the first: the Observations' own rows (the second, a held finding's, reads repeated
    # pairs only: its condition starts with the pairs' test)
    row = next(r for r in READING.rows if r.table == "clinical" and r.resource == "Observation")
    when = inline_own_rows(row, READING, frozenset(), repeated).when
    assert not isinstance(when, ir.If), type(when).__name__
    found = list(_nodes(when))
    sets = [inside for node, inside in found if isinstance(node, rec.InSet)]
    assert sets and not any(sets)
    versions = [inside for node, inside in found if isinstance(node, rec.Joined)]
    assert versions and all(versions)  # (the pairs' test, in the If's condition, counts too)


def test_a_panels_members_joining_the_chosen_versions_keep_the_pairs_plan() -> None:
    """Stop 45: a panel's contained members read the version of their panel read, asked of
    ``observation_chosen`` from an item row. That table holds the ids sent more than once only
    (`EpisodeSpec.pairs_only`), so the Observations' version tables may still hold only the
    repeated pairs' rows: without it, every Observation of an export would be ranked."""
    keys = joined_keys(READING)
    observations = {t for t, k in keys.items() if k[0] == "Observation"}
    assert "observation_chosen" in READING.pairs_only
    assert observations <= safe_repeated(READING, frozenset(keys))
    not_declared = dataclasses.replace(READING, pairs_only=())
    assert not observations & safe_repeated(not_declared, frozenset(keys))
    # its rows: a version ranked first of an id NOT sent once (the versions' greatest and least
    # line differ)
    (chosen,) = [r for r in READING.rows if r.table == "observation_chosen"]
    assert isinstance(chosen.when, ir.And) and isinstance(chosen.when.items[0], ir.Not)
    alone = [n for n, _ in _nodes(chosen.when.items[0]) if isinstance(n, rec.Joined)]
    assert {(j.table, j.column, j.least) for j in alone} == {
        ("observation_versions", "n", False),
        ("observation_versions", "n", True),
    }
