"""`rec.ItemRows` with ``container`` (a DiagnosticReport's ``contained`` Observations, stop 22):
each item is read as a resource in full (its own id, code, status), with the resource around it
at that key (the report's status and result beside the finding's), and the resource itself gives
no row of that spec; the row's ``ref`` is the resource's. The Python engine (closures and fused
row functions) and the ibis compiler on DuckDB read it alike; the definition's use of it runs on
Spark in tests/audit/test_fhir_real_scans.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis
import pytest

from earlypath.records.ibis_compile import compile_rows, load_resources
from earlypath.records.ir import (
    AnyItem,
    Concept,
    EpisodeSpec,
    Field,
    FirstCode,
    ItemRows,
    LocalId,
    Outer,
    RowSpec,
)
from earlypath.records.python import read_rows
from earlypath.rules.ir import Cmp, Const

# the item's own id referred to by its container's result ("#id")
REFERRED = AnyItem(
    "_report.result", Cmp("==", LocalId(Field("reference", "str")), Outer(Field("id", "str")))
)
SPEC = EpisodeSpec(
    rows=(
        RowSpec(
            "found",
            "DiagnosticReport",
            Const(True),
            Field("_report.subject.reference", "str"),
            (
                ("code", FirstCode(Concept("code"))),
                ("status", Field("status", "str")),
                ("report_status", Field("_report.status", "str")),
                ("own_id", Field("id", "str")),
                ("referred", REFERRED),
            ),
            items=ItemRows("contained", (), container="_report"),
        ),
    ),
    steps=(),
)


def _finding(rid: str, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"code": code}]},
        **extra,
    }


def _report(rid: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "partial",
        "subject": {"reference": "Patient/a"},
        "code": {"coding": [{"code": "report-code"}]},
        **extra,
    }


REPORTS = [
    _report(
        "two",
        contained=[_finding("f1", "c1"), _finding("f2", "c2", status="preliminary")],
        result=[{"reference": "#f1"}],
    ),
    _report("none"),
    _report("empty", contained=[]),
    _report("text-item", contained=["f3"], result=[{"reference": "#f3"}]),
]
# (ref, code, status, report status, own id, referred): one row per contained item, none of the
# report itself; an item that is not an object has only the report
EXPECTED = [
    ("DiagnosticReport/text-item", None, None, "partial", None, False),
    ("DiagnosticReport/two", "c1", "final", "partial", "f1", True),
    ("DiagnosticReport/two", "c2", "preliminary", "partial", "f2", False),
]
COLUMNS = ("ref", "code", "status", "report_status", "own_id", "referred")


def _got(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(r[c] for c in COLUMNS) for r in rows), key=str)


@pytest.mark.parametrize("fused", [True, False])
def test_a_contained_finding_is_read_on_every_python_path_and_duckdb(
    fused: bool, tmp_path: Path
) -> None:
    assert _got(read_rows(SPEC, REPORTS, fused=fused).tables["found"]) == EXPECTED
    patients = {r["patient"] for r in read_rows(SPEC, REPORTS, fused=fused).tables["found"]}
    assert patients == {"Patient/a"}
    if not fused:
        return
    path = tmp_path / "DiagnosticReport.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in REPORTS), encoding="utf-8")
    con = ibis.duckdb.connect()
    tables, _, _ = compile_rows(SPEC, load_resources(con, {"DiagnosticReport": [path]}, SPEC, "w"))
    found = tables["found"].to_pyarrow().to_pylist()
    assert _got(found) == EXPECTED
    assert {r["patient"] for r in found} == {"Patient/a"}


# `ItemRows.then` (stop 23): a contained panel's components, each read as an exported panel's
# are (code and value the component's, the rest the panel's, the report still beside it)
NESTED = EpisodeSpec(
    rows=(
        RowSpec(
            "found",
            "DiagnosticReport",
            Const(True),
            Field("_report.subject.reference", "str"),
            (
                ("code", FirstCode(Concept("code"))),
                ("value", Field("valueQuantity.value", "num")),
                ("status", Field("status", "str")),
                ("report_status", Field("_report.status", "str")),
                ("own_id", Field("id", "str")),
                ("referred", REFERRED),
            ),
            items=ItemRows(
                "contained",
                (),
                container="_report",
                then=ItemRows("component", ("code", "valueQuantity")),
            ),
        ),
    ),
    steps=(),
)
PANEL_REPORTS = [
    _report(
        "panel",
        contained=[
            _finding(
                "p1",
                "panel-code",
                component=[
                    {"code": {"coding": [{"code": "crl"}]}, "valueQuantity": {"value": 9.5}},
                    {"code": {"coding": [{"code": "loc"}]}},
                    "not-an-object",
                ],
            ),
            _finding("f1", "c1", component="not-a-list"),
        ],
        result=[{"reference": "#p1"}],
    ),
    *REPORTS,
]
# (ref, code, value, status, report status, own id, referred): the panel, then its components
# (a component that is not an object: the panel's elements but for its code and value)
EXPECTED_NESTED = sorted(
    [
        *((ref, code, None, *rest) for ref, code, *rest in EXPECTED),
        ("DiagnosticReport/panel", "panel-code", None, "final", "partial", "p1", True),
        ("DiagnosticReport/panel", "crl", 9.5, "final", "partial", "p1", True),
        ("DiagnosticReport/panel", "loc", None, "final", "partial", "p1", True),
        ("DiagnosticReport/panel", None, None, "final", "partial", "p1", True),
        ("DiagnosticReport/panel", "c1", None, "final", "partial", "f1", False),
    ],
    key=str,
)
NESTED_COLUMNS = ("ref", "code", "value", "status", "report_status", "own_id", "referred")


def _nested(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(r.get(c) for c in NESTED_COLUMNS) for r in rows), key=str)


def test_a_contained_panels_components_are_read_on_every_python_path_and_duckdb(
    tmp_path: Path,
) -> None:
    for fused in (True, False):
        assert _nested(read_rows(NESTED, PANEL_REPORTS, fused=fused).tables["found"]) == (
            EXPECTED_NESTED
        )
    path = tmp_path / "DiagnosticReport.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in PANEL_REPORTS), encoding="utf-8")
    con = ibis.duckdb.connect()
    loaded = load_resources(con, {"DiagnosticReport": [path]}, NESTED, "w")
    tables, _, _ = compile_rows(NESTED, loaded)
    assert _nested(tables["found"].to_pyarrow().to_pylist()) == EXPECTED_NESTED
