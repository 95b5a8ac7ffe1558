"""`rec.ItemRows` with ``whole`` (a DiagnosticReport's ``conclusionCode``, stop 20): each item is
the concept at that key of a row of its own, and the resource itself gives no row of that spec
(its own code names the report, not a finding). The Python engine and the ibis compiler on DuckDB
read it alike; the definition's use of it runs on Spark in tests/audit/test_fhir_real_scans.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis

from earlypath.records.ibis_compile import compile_rows, load_resources
from earlypath.records.ir import Concept, EpisodeSpec, Field, FirstCode, ItemRows, RowSpec
from earlypath.records.python import read_rows
from earlypath.rules.ir import Const

SPEC = EpisodeSpec(
    rows=(
        RowSpec(
            "found",
            "DiagnosticReport",
            Const(True),
            Field("subject.reference", "str"),
            (("code", FirstCode(Concept("code"))), ("status", Field("status", "str"))),
            items=ItemRows("conclusionCode", (), whole="code"),
        ),
    ),
    steps=(),
)


def _report(rid: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "subject": {"reference": "Patient/a"},
        "code": {"coding": [{"code": "report-code"}]},
        **extra,
    }


REPORTS = [
    _report("two", conclusionCode=[{"coding": [{"code": "c1"}]}, {"coding": [{"code": "c2"}]}]),
    _report("none"),
    _report("empty", conclusionCode=[]),
    _report("text-item", conclusionCode=["c3", {"text": "no coding"}]),
]
# (ref, code, status): one row per conclusion, none of the report's own code
EXPECTED = [
    ("DiagnosticReport/text-item", None, "final"),
    ("DiagnosticReport/text-item", None, "final"),
    ("DiagnosticReport/two", "c1", "final"),
    ("DiagnosticReport/two", "c2", "final"),
]


def test_the_python_engine_reads_only_the_items() -> None:
    rows = read_rows(SPEC, REPORTS).tables["found"]
    got = sorted(((r["ref"], r["code"], r["status"]) for r in rows), key=str)
    assert got == EXPECTED


def test_duckdb_reads_only_the_items(tmp_path: Path) -> None:
    path = tmp_path / "DiagnosticReport.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in REPORTS), encoding="utf-8")
    con = ibis.duckdb.connect()
    tables, _, _ = compile_rows(SPEC, load_resources(con, {"DiagnosticReport": [path]}, SPEC, "w"))
    found = tables["found"].to_pyarrow().to_pylist()
    got = sorted(((r["ref"], r["code"], r["status"]) for r in found), key=str)
    assert got == EXPECTED
