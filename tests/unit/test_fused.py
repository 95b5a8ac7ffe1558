"""The generated functions of `earlypath.engines.fused` against the reference closures, and the
section texts found by their key against the reference path (issue 16)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from earlypath import assess, parse_episode_json
from earlypath.dating import CRL_GESTATION_DAYS, GESTATION_DAYS
from earlypath.engines import sections as engine_sections
from earlypath.engines.evaluate import compile_expr
from earlypath.engines.fused import assessment_key_function, expr_function, section_key_function
from earlypath.engines.python import _parts, assess_json, decide
from earlypath.facts import episode_facts
from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY, PathwayPolicy, sections
from earlypath.guideline.progesterone import progesterone_table
from earlypath.guideline.versions import VERSIONS
from earlypath.policy import DEFAULT_POLICY
from earlypath.rules import ir
from earlypath.rules.decision import DecisionTable
from tests.pathway.strategies import episodes

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from bench_assess import generate  # noqa: E402

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _tables() -> list[DecisionTable]:
    out = []
    for version in VERSIONS:
        out.append(progesterone_table(version.version, DEFAULT_POLICY.stop_day))
        for policy in (PathwayPolicy(), PathwayPolicy("rewrite-unverified")):
            for section in sections():
                out.extend(section.tables(version.version, policy).values())
    return out


def _expressions() -> list[ir.Expr]:
    """Every guard, criterion, advice and section value of every version: each distinct once."""
    seen: dict[ir.Expr, None] = dict.fromkeys([GESTATION_DAYS, CRL_GESTATION_DAYS])
    for table in _tables():
        for branch in table.branches:
            seen[branch.guard] = None
            for verdict in branch.verdicts:
                seen.update(dict.fromkeys(c.expr for c in verdict.criteria))
        seen.update(dict.fromkeys(a.expr for a in table.advice))
    for version in VERSIONS:
        for section in sections():
            seen.update(
                dict.fromkeys(section.values(version.version, DEFAULT_PATHWAY_POLICY).values())
            )
    return list(seen)


EXPRESSIONS = _expressions()
GENERATED = [(e, compile_expr(e), expr_function(e)) for e in EXPRESSIONS]


def _agree(facts: dict[str, Any]) -> None:
    for expr, closure, generated in GENERATED:
        want, got = closure(facts), generated(facts)
        assert type(got) is type(want) and got == want, (expr, generated.source)


def test_every_rule_expression_has_a_generated_function() -> None:
    assert len(EXPRESSIONS) > 100  # the whole guideline, not a sample


@SETTINGS
@given(episodes())
def test_generated_expressions_agree_with_the_closures(episode: dict[str, Any]) -> None:
    try:
        facts = episode_facts(parse_episode_json(json.dumps(episode)))
    except Exception:  # noqa: BLE001 - episodes the contract refuses have no facts
        return
    _agree(facts)


def test_generated_expressions_agree_on_the_benchmark_episodes() -> None:
    for text in generate(1500, seed=11):
        _agree(episode_facts(parse_episode_json(text)))


def test_each_node_kind_agrees_on_unknown_and_known_values() -> None:
    day = ir.Fact("day", "date")
    n = ir.Fact("n", "int")
    flag = ir.Fact("flag", "bool")
    code = ir.Fact("code", "str")
    nodes = [
        ir.And((flag, n.gt(2), ir.Not(flag))),
        ir.Or((flag, n.le(2), ir.IsNull(code))),
        ir.Match(code, ("a",), ("b",)),
        ir.IsTrue(flag),
        ir.Floor(ir.Sqrt(n * 2.5)),
        ir.Arith("-", n, ir.Const(1)) / 2,
        ir.DaysBetween(day, ir.AddDays(day, n)),
        ir.Coalesce((ir.Const(None), n, ir.Const(7))),
        ir.If(flag, n, ir.Const(0)),
        ir.Cmp("==", code, ir.Const("a")),
    ]
    for node in nodes:
        closure, generated = compile_expr(node), expr_function(node)
        for facts in (
            {"day": None, "n": None, "flag": None, "code": None},
            {"day": dt.date(2024, 1, 1), "n": 3, "flag": True, "code": "a"},
            {"day": dt.date(2024, 1, 1), "n": 1, "flag": False, "code": "b"},
            {"day": dt.date(2024, 2, 1), "n": 0, "flag": None, "code": "c"},
        ):
            want, got = closure(facts), generated(facts)
            assert type(got) is type(want) and got == want, (node, facts)


def test_a_section_key_tells_apart_what_its_text_shows() -> None:
    """Facts that give another decision, other advice or another shown fact give another key."""
    table = next(s for s in sections() if s.name == "anti_d").tables(
        VERSIONS[-1].version, DEFAULT_PATHWAY_POLICY
    )
    key_of = section_key_function(table.values())
    base = episode_facts(parse_episode_json('{"assessed_on": "2024-03-01"}'))
    seen = {key_of(base)}
    for change in ({"rhesus_d": "negative"}, {"rhesus_d": "positive"}, {"management": "surgical"}):
        seen.add(key_of({**base, **change}))
    assert len(seen) == 4


@pytest.fixture
def fresh_keys() -> Iterator[None]:
    """Sections start with no key met (the texts kept earlier in the run stay), and so do
    whole assessments (kept per assessment key, `_whole_json`)."""
    prepared = [
        engine_sections.prepare(section, version.version, DEFAULT_PATHWAY_POLICY)
        for section in sections()
        for version in VERSIONS
    ]
    whole = [_parts(v, DEFAULT_POLICY, DEFAULT_PATHWAY_POLICY).whole for v in VERSIONS]
    for kept in [*(p.by_key for p in prepared), *whole]:
        kept.clear()
    yield
    for kept in [*(p.by_key for p in prepared), *whole]:
        kept.clear()


def test_section_texts_by_key_are_the_reference_bytes(fresh_keys: None) -> None:
    """Many episodes share a key (that is the point): each answer is still the reference's."""
    texts = generate(3000, seed=3)
    for text in texts:
        episode = parse_episode_json(text)
        want = json.dumps(assess(episode), ensure_ascii=False, separators=(",", ":")).encode()
        assert assess_json(episode) == want


def test_a_key_met_before_is_one_lookup(fresh_keys: None, monkeypatch: pytest.MonkeyPatch) -> None:
    episode = parse_episode_json('{"assessed_on": "2024-03-01", "rhesus_d": "negative"}')
    first = orjson.loads(assess_json(episode))
    prepared = engine_sections.prepare(
        next(s for s in sections() if s.name == "anti_d"),
        first["guideline"]["version"],
        DEFAULT_PATHWAY_POLICY,
    )
    assert len(prepared.by_key) == 1
    (kept,) = prepared.by_key.values()
    assert isinstance(kept, orjson.Fragment)
    calls: list[str] = []
    reference = engine_sections._section_output

    def counted(*args: Any) -> Any:
        calls.append(args[0].name)
        return reference(*args)

    monkeypatch.setattr(engine_sections, "_section_output", counted)
    assert orjson.loads(assess_json(episode)) == first
    assert "anti_d" not in calls
    assert "referral" not in calls


def test_decisions_kept_by_key_are_the_full_evaluation() -> None:
    """`decide` keeps its answer per key: many episodes share one, each answer is still the
    progesterone section's."""
    for text in generate(3000, seed=5):
        episode = parse_episode_json(text)
        section = assess(episode, sections=("progesterone",))["progesterone"]
        decided = decide(episode)
        assert decided.decision == section["decision"]
        assert list(decided.recommendations) == section["recommendations"]
        assert list(decided.missing) == section["missing"]


def test_a_node_written_more_than_once_is_computed_once() -> None:
    """The assessment key's tables read the same gestation many times: the generated function
    computes it once, as a statement, and reads it by name (issue 16)."""
    parts = _parts(VERSIONS[-1], DEFAULT_POLICY, DEFAULT_PATHWAY_POLICY)
    tables = [[parts.progesterone.table.table]]
    tables += [parts.sections[s.name].key_tables() for s in sections()]
    key_function = assessment_key_function(tables)
    source = key_function.source
    local = key_function.locals_of_facts
    assessed_on, lmp = local["assessed_on"], local["lmp"]
    assert source.count(f"({assessed_on} - {lmp}).days") == 1  # gestation by LMP


def test_a_key_is_one_flat_tuple() -> None:
    """A key is hashed and compared as one tuple (no tuple per table or verdict inside it);
    that it still tells the texts apart is held by the byte tests of kept texts."""
    for section in sections():
        prepared = engine_sections.prepare(section, VERSIONS[-1].version, DEFAULT_PATHWAY_POLICY)
        key_of = prepared.key_function()
        assert key_of is not None
        for text in generate(300, seed=31):
            key = key_of(episode_facts(parse_episode_json(text)))
            assert type(key) is tuple and not any(type(v) is tuple for v in key)
