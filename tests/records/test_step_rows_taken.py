"""A step's rows that no aggregate of it can take are left out before the rows are joined to
the encounters (docs/speed.md, the FHIR audit, round 5): each filter's part that reads only
the row. An encounter whose rows are all left out gives what an encounter without rows gives:
None, 0 for a count, [] for a list (filled after the join back to the encounters), for every
kind of aggregate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis

from earlypath.records.ibis_compile import compile_records, load_resources
from earlypath.records.ir import Agg, Col, Ctx, Day, EpisodeSpec, Field, RowSpec
from earlypath.rules.ir import And, Cmp, Const, IsTrue

_DAY = Day(Field("effectiveDateTime", "str"))
_BEFORE = IsTrue(Cmp("<=", Col("day"), Ctx("assessed_on")))
_HIGH = IsTrue(Cmp(">", Col("value"), Const(5)))
_KEPT = And((IsTrue(Cmp(">=", Col("value"), Const(3))), _BEFORE))

SPEC = EpisodeSpec(
    rows=(
        RowSpec(
            table="clinical",
            resource="Observation",
            when=Const(True),
            patient=Field("subject.reference", "str"),
            columns=(("day", _DAY), ("value", Field("valueQuantity.value", "num"))),
        ),
    ),
    steps=(
        ("any_high", Agg("any", "clinical", _HIGH, _HIGH)),
        ("all_before", Agg("all", "clinical", _KEPT, _BEFORE)),
        ("top", Agg("max", "clinical", _HIGH, Col("value"))),
        ("low", Agg("min", "clinical", _KEPT, Col("value"))),
        ("days", Agg("count_distinct", "clinical", _KEPT, Col("day"))),
        ("latest", Agg("latest", "clinical", _KEPT, Col("value"), (Col("day"),))),
        ("values", Agg("collect", "clinical", _HIGH, Col("value"))),
    ),
)


def _observation(i: int, patient: str, day: str, value: float) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "id": f"o{i}",
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": day,
        "valueQuantity": {"value": value},
    }


def _loaded(tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    lines = [
        _observation(1, "a", "2024-03-01", 7),  # a: taken by every filter
        _observation(2, "a", "2024-03-02", 3),
        _observation(3, "b", "2024-03-01", 2),  # b: low: no filter takes it
    ]
    path = tmp_path / "Observation.ndjson"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    con = ibis.duckdb.connect()
    resources = load_resources(con, {"Observation": [path]}, SPEC, "t")
    con.raw_sql(
        "CREATE TABLE enc AS SELECT * FROM (VALUES (1::BIGINT, 'e1', 'Patient/a', "
        "DATE '2024-03-04'), (2::BIGINT, 'e2', 'Patient/b', DATE '2024-03-04')) "
        "AS v(_key, encounter, patient, assessed_on)"
    )
    return con, resources


def test_rows_no_filter_can_take_give_what_no_rows_give(tmp_path: Path) -> None:
    con, resources = _loaded(tmp_path)
    out = compile_records(SPEC, resources, lambda rows: con.table("enc"))
    assert out.episodes is not None
    sql = str(con.compile(out.episodes))
    # on the rows' side of the join: the OR of the filters' parts that read only the row
    rows_side = sql.split("INNER JOIN", 1)[1].split(" ON ", 1)[0]
    assert "> 5" in rows_side and ">= 3" in rows_side and "assessed_on" not in rows_side, sql
    names = [name for name, _ in SPEC.steps]
    got = {
        r["_key"]: {n: r[n] for n in names}
        for r in out.episodes.select("_key", *names).to_pyarrow().to_pylist()
    }
    assert got[1] == {
        "any_high": True,
        "all_before": True,
        "top": 7,
        "low": 3,
        "days": 2,
        "latest": 3,
        "values": [7],
    }
    assert got[2] == {
        "any_high": None,
        "all_before": None,
        "top": None,
        "low": None,
        "days": 0,
        "latest": None,
        "values": [],
    }


ROW_ONLY = EpisodeSpec(
    rows=SPEC.rows,
    steps=(
        ("top", Agg("max", "clinical", And((_HIGH, _BEFORE)), Col("value"))),
        ("days", Agg("count_distinct", "clinical", _HIGH, Col("day"))),
    ),
)


def test_rows_no_filter_can_take_are_left_out_before_the_join(tmp_path: Path) -> None:
    """When every filter has a part that reads only the row (``value > 5``), the rows none of
    those parts takes are left out before the rows are joined to the encounters."""
    con, resources = _loaded(tmp_path)
    out = compile_records(ROW_ONLY, resources, lambda rows: con.table("enc"))
    assert out.episodes is not None
    sql = str(con.compile(out.episodes))
    rows_side = sql.split("INNER JOIN", 1)[1].split(" ON ", 1)[0]
    assert "> 5" in rows_side and "assessed_on" not in rows_side, sql
    got = out.episodes.select("_key", "top", "days").to_pyarrow().to_pylist()
    assert sorted(got, key=lambda r: r["_key"]) == [
        {"_key": 1, "top": 7, "days": 1},
        {"_key": 2, "top": None, "days": 0},
    ]
