"""The pathway sections give the same answers on the DuckDB batch engine as on the reference
engine: every vignette, and generated episodes (decisions, recommendations, missing, values).

A batch judgement costs a DuckDB compile and run whatever its size, and each episode is a row of
its own, so the examples Hypothesis draws for the generated tests are drawn first (same
strategies and settings) and judged in one batch per rule (stop 51: 35 judgements, now 3, and 2
more alone), each example's rows cut back out and compared as its own judgement compared them.
`test_an_episode_judged_with_others_is_judged_as_alone` judges the largest examples alone.
"""

from __future__ import annotations

import functools
import os
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from earlypath import assess
from earlypath.guideline.pathway import PathwayPolicy
from tests.conftest_spark import spark  # noqa: F401 - the shared session fixture
from tests.drawn import drawn, in_one_batch
from tests.pathway.batch import batch_sections, reference_sections, same_value
from tests.pathway.strategies import episodes
from tests.spec.vignettes import load_vignettes

VIGNETTES = load_vignettes()
POLICIES = sorted({tuple(sorted(v.pathway_policy.items())) for v in VIGNETTES})


def assert_agree(reference: list[dict[str, Any]], batch: list[dict[str, Any]]) -> None:
    for i, (ref, got) in enumerate(zip(reference, batch, strict=True)):
        assert set(ref) == set(got), i
        for key, value in ref.items():
            assert same_value(value, got[key]) if ".value." in key else value == got[key], (
                i,
                key,
                value,
                got[key],
            )


@pytest.mark.parametrize("policy", POLICIES, ids=[str(dict(p)) for p in POLICIES])
def test_duckdb_agrees_with_the_reference_on_every_pathway_vignette(policy: tuple) -> None:
    chosen = [v for v in VIGNETTES if tuple(sorted(v.pathway_policy.items())) == policy]
    eps = [v.episode for v in chosen]
    pathway = PathwayPolicy(**dict(policy))
    batch = batch_sections(eps, pathway)
    assert_agree(reference_sections(eps, pathway), batch)
    for v, row in zip(chosen, batch, strict=True):
        for table, outcome in v.decisions.items():
            key = f"{v.topic}.{table}"
            if key in row:  # the progesterone topic is the core's table, checked elsewhere
                assert row[key][0] == outcome, (v.id, table)


@pytest.mark.spark
def test_spark_agrees_with_the_reference_on_every_pathway_vignette(spark: Any) -> None:  # noqa: F811
    import ibis

    con = ibis.pyspark.connect(spark)
    for policy in POLICIES:
        chosen = [v for v in VIGNETTES if tuple(sorted(v.pathway_policy.items())) == policy]
        eps = [v.episode for v in chosen]
        pathway = PathwayPolicy(**dict(policy))
        assert_agree(reference_sections(eps, pathway), batch_sections(eps, pathway, con))


def test_reference_sections_match_the_assessment_output() -> None:
    eps = [v.episode for v in VIGNETTES[:20]]
    for episode, ref in zip(eps, reference_sections(eps), strict=True):
        assessment = assess(episode)
        for key, value in ref.items():
            if not key.endswith(".main"):
                continue
            decision, recs, missing = value
            section = assessment[key.removesuffix(".main")]
            assert (section["decision"], section["recommendations"], section["missing"]) == (
                decision,
                recs,
                missing,
            )


GENERATED = settings(
    max_examples=int(os.environ.get("EARLYPATH_PATHWAY_BATCH_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
RULES = ["ng126-2012-2023", "rewrite-unverified"]


Judged = list[dict[str, Any]]


class Generated(NamedTuple):
    """The drawn examples (episodes, rule) and each one's rows of its rule's batch."""

    examples: list[tuple[list[dict], str]]
    batched: list[Judged]


@pytest.fixture(scope="module")
def generated() -> Generated:
    examples = drawn(
        st.tuples(st.lists(episodes(), min_size=1, max_size=40), st.sampled_from(RULES)), GENERATED
    )
    batched: list[Judged] = [[] for _ in examples]
    for rule in RULES:
        mine = [n for n, (_, r) in enumerate(examples) if r == rule]
        if not mine:
            continue
        policy = PathwayPolicy(rule)  # type: ignore[arg-type]
        judge = functools.partial(batch_sections, policy=policy)
        cut = in_one_batch([examples[n][0] for n in mine], judge)
        for n, rows in zip(mine, cut, strict=True):
            batched[n] = rows
    return Generated(examples, batched)


def test_duckdb_agrees_with_the_reference_on_generated_episodes(generated: Generated) -> None:
    for n, ((eps, rule), batch) in enumerate(zip(*generated, strict=True)):
        policy = PathwayPolicy(rule)  # type: ignore[arg-type]
        try:
            assert_agree(reference_sections(eps, policy), batch)
        except AssertionError as error:
            raise AssertionError(f"example {n} ({rule}): {error}") from error


def test_unknown_not_stays_unknown_when_criteria_are_not_materialised() -> None:
    # Regression: ibis 12 rendered (NOT x) IS NULL as NOT (x) IS NULL, read by DuckDB as
    # NOT (x IS NULL); the compiler now writes Kleene NOT as x = FALSE.
    import ibis
    import pyarrow as pa

    from earlypath.engines.ibis_compile import compile_expr
    from earlypath.facts import ABLE_TO_RETURN
    from earlypath.rules.ir import Not

    t = ibis.memtable(pa.table({ABLE_TO_RETURN.name: pa.array([None], pa.bool_())}))
    unknown = compile_expr(Not(ABLE_TO_RETURN), t, "bool").isnull()
    assert ibis.duckdb.connect().to_pyarrow(t.select(x=unknown)).to_pylist() == [{"x": True}]


decimals = st.decimals(min_value="1.00", max_value="200000.00", places=2)


HCG = settings(max_examples=10, deadline=None)
Pairs = list[tuple[Any, Any, str]]


def _hcg_episodes(pairs: Pairs) -> list[dict[str, Any]]:
    """An episode of two hCG results a pair, the second 1.63 or 0.5 times the first by ``kind``."""
    from decimal import Decimal

    eps = []
    for first, second, kind in pairs:
        if kind == "1.63":
            second = first * Decimal("1.63")
        elif kind == "0.50":
            second = first * Decimal("0.5")
        eps.append(
            {
                "assessed_on": "2024-03-06",
                "scans": [{"date": "2024-03-04", "location": "unknown"}],
                "hcg": [
                    {"taken_at": "2024-03-04T09:00:00", "iu_per_l": float(first)},
                    {"taken_at": "2024-03-06T09:00:00", "iu_per_l": float(second)},
                ],
            }
        )
    return eps


def _hcg_only(eps: list[dict[str, Any]]) -> Judged:
    return batch_sections(eps, only=["hcg_assessment"])  # the one section compared


class HcgDrawn(NamedTuple):
    """The drawn examples (pairs) and each one's rows of the one batch."""

    examples: list[Pairs]
    batched: list[Judged]


@pytest.fixture(scope="module")
def hcg_drawn() -> HcgDrawn:
    examples = drawn(
        st.lists(
            st.tuples(decimals, decimals, st.sampled_from(["any", "1.63", "0.50"])),
            min_size=1,
            max_size=60,
        ),
        HCG,
    )
    return HcgDrawn(examples, in_one_batch([_hcg_episodes(p) for p in examples], _hcg_only))


def test_duckdb_hcg_categories_agree_on_decimal_boundaries(hcg_drawn: HcgDrawn) -> None:
    for n, (pairs, batch) in enumerate(zip(*hcg_drawn, strict=True)):
        reference = reference_sections(_hcg_episodes(pairs))
        for (_, _, kind), ref, got in zip(pairs, reference, batch, strict=True):
            assert got["hcg_assessment.main"] == ref["hcg_assessment.main"], n
            if kind != "any":
                assert got["hcg_assessment.main"][0] == "other", n


def test_an_episode_judged_with_others_is_judged_as_alone(
    generated: Generated, hcg_drawn: HcgDrawn
) -> None:
    """The largest drawn example of each generated test judged alone gives its rows of the
    batch: no row is judged by another's."""
    n = max(range(len(generated.examples)), key=lambda i: len(generated.examples[i][0]))
    eps, rule = generated.examples[n]
    alone = batch_sections(eps, PathwayPolicy(rule))  # type: ignore[arg-type]
    assert len(alone) == len(generated.batched[n]) > 0
    assert_agree(alone, generated.batched[n])
    n = max(range(len(hcg_drawn.examples)), key=lambda i: len(hcg_drawn.examples[i]))
    alone = _hcg_only(_hcg_episodes(hcg_drawn.examples[n]))
    assert alone == hcg_drawn.batched[n] and alone


def test_assess_sections_table_gives_every_section_as_the_python_engine_does() -> None:
    """The package's batch `assess` for every section: per section the python engine's
    decision, recommendations and missing (progesterone included), other tables likewise."""
    import ibis
    import pyarrow as pa

    from earlypath.engines.batch import assess_sections_table, section_names
    from earlypath.facts import ALL_FACTS, episode_facts
    from earlypath.model import parse_episode
    from tests.pathway.batch import SCHEMA, _version

    chosen = [v for v in VIGNETTES if not v.pathway_policy][:60]
    rows = []
    for i, v in enumerate(chosen):
        facts = episode_facts(parse_episode(v.episode))
        rows.append(
            {**{f.name: facts[f.name] for f in ALL_FACTS}, "i": i, "guideline_version": None}
        )
    t = ibis.memtable(pa.Table.from_pylist(rows, schema=SCHEMA))
    names = list(section_names())
    assert names[0] == "progesterone" and len(names) == 7
    judged = assess_sections_table(t, names)
    got = ibis.duckdb.connect().to_pyarrow(judged.select("i", "guideline_version", *names))
    for row in got.to_pylist():
        episode = chosen[row["i"]].episode
        assessment = assess(episode)
        assert row["guideline_version"] == _version(episode)
        for name in names:
            want = assessment[name]
            section = row[name]
            assert (section["decision"], section["recommendations"], section["missing"]) == (
                want["decision"],
                want["recommendations"],
                want["missing"],
            ), (chosen[row["i"]].id, name)
            for table, other in want.get("other_decisions", {}).items():
                mine = section["other_decisions"][table]
                assert (mine["decision"], mine["recommendations"], mine["missing"]) == (
                    other["decision"],
                    other["recommendations"],
                    other["missing"],
                ), (chosen[row["i"]].id, name, table)


def test_assess_sections_table_judges_only_the_sections_asked_for() -> None:
    import ibis
    import pyarrow as pa

    from earlypath.engines.batch import assess_sections_table
    from tests.pathway.batch import SCHEMA

    t = ibis.memtable(pa.Table.from_pylist([], schema=SCHEMA))
    judged = assess_sections_table(t, ["anti_d", "hcg_assessment"])
    assert "anti_d" in judged.columns and "hcg_assessment" in judged.columns
    assert "progesterone" not in judged.columns and "referral" not in judged.columns
    assert "decision" not in judged.columns
    for bad, message in ((["anti-d"], "unknown section"), ("anti_d", "give a list")):
        with pytest.raises(ValueError, match=f"sections: {message}"):
            assess_sections_table(t, bad)  # type: ignore[arg-type]
