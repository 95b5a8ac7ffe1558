"""The pathway sections give the same answers on the DuckDB batch engine as on the reference
engine: every vignette, and generated episodes (decisions, recommendations, missing, values)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath import assess
from earlypath.guideline.pathway import PathwayPolicy
from tests.conftest_spark import spark  # noqa: F401 - the shared session fixture
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


@settings(
    max_examples=int(os.environ.get("EARLYPATH_PATHWAY_BATCH_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(episodes(), min_size=1, max_size=40),
    st.sampled_from(["ng126-2012-2023", "rewrite-unverified"]),
)
def test_duckdb_agrees_with_the_reference_on_generated_episodes(eps: list, rule: str) -> None:
    policy = PathwayPolicy(rule)  # type: ignore[arg-type]
    assert_agree(reference_sections(eps, policy), batch_sections(eps, policy))


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


@settings(max_examples=10, deadline=None)
@given(
    st.lists(
        st.tuples(decimals, decimals, st.sampled_from(["any", "1.63", "0.50"])),
        min_size=1,
        max_size=60,
    )
)
def test_duckdb_hcg_categories_agree_on_decimal_boundaries(pairs: list) -> None:
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
    reference = reference_sections(eps)
    batch = batch_sections(eps, only=["hcg_assessment"])  # the one section compared
    for (_, _, kind), ref, got in zip(pairs, reference, batch, strict=True):
        assert got["hcg_assessment.main"] == ref["hcg_assessment.main"]
        if kind != "any":
            assert got["hcg_assessment.main"][0] == "other"


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
