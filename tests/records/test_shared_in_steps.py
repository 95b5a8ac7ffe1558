"""A step's aggregates compute what their filters share once per joined row (docs/speed.md,
the FHIR audit, round 4): where a row's day falls against the assessment is written once in
the statement, not in the filter of every aggregate. The values are the node cases' and
tests/records/test_engines_agree.py's."""

from __future__ import annotations

import ibis

from earlypath.records.ibis_compile import compile_records, load_resources
from earlypath.records.ir import Agg, Col, Concept, Ctx, Day, EpisodeSpec, Field, InSet, RowSpec
from earlypath.rules.ir import And, Cmp, Const, IsTrue, Not

_DAY = Day(Field("effectiveDateTime", "str"))
_BEFORE = IsTrue(Cmp("<=", Col("day"), Ctx("assessed_on")))

SPEC = EpisodeSpec(
    rows=(
        RowSpec(
            table="clinical",
            resource="Observation",
            when=Const(True),
            patient=Field("subject.reference", "str"),
            columns=(
                ("day", _DAY),
                ("bleeding", InSet(Concept("code"), "bleeding")),
                ("value", Field("valueQuantity.value", "num")),
            ),
        ),
    ),
    steps=(
        ("bled", Agg("any", "clinical", And((_BEFORE, IsTrue(Col("bleeding")))), Col("bleeding"))),
        ("first", Agg("min", "clinical", And((_BEFORE, Not(IsTrue(Col("bleeding"))))), Col("day"))),
        ("top", Agg("max", "clinical", _BEFORE, Col("value"))),
    ),
)


def test_a_filter_shared_by_aggregates_is_written_once() -> None:
    con = ibis.duckdb.connect()
    resources = load_resources(con, {}, SPEC, "t")
    con.raw_sql(
        "CREATE TABLE enc AS SELECT 1::BIGINT AS _key, 'e'::VARCHAR AS encounter, "
        "'p'::VARCHAR AS patient, DATE '2024-03-04' AS assessed_on"
    )
    out = compile_records(SPEC, resources, lambda rows: con.table("enc"))
    assert out.episodes is not None
    sql = str(con.compile(out.episodes))
    assert sql.count('<= "') == 1, sql
    assert out.episodes.to_pyarrow().num_rows == 1
