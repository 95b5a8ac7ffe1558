"""The FHIR audit reads Procedure.ndjson (it was skipped as a type no row spec read, stop 31): a
woman eligible for progesterone (NG126 1.5.2, 2021 text: bleeding, a confirmed intrauterine
pregnancy, a previous miscarriage) whose previous miscarriage is recorded only as the procedure
that treated it is judged "offer", not "needs_information"; one whose procedure was not done
stays "needs_information" (unknown is never "no previous miscarriage"). Stop 33: an evacuation of
retained products whose reasonCode is a missed miscarriage is read as one (any of its reasonCodes,
one row per procedure since stop 37); one for a termination, or with no reason, is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from earlypath.audit.run import run_audit
from tests.fhir_exports import one_export, write_export
from tests.integration.fhir_data import bleeding, crl, iup, lmp
from tests.records.previous_history_shapes import (
    ERPC,
    MISSED_MISCARRIAGE,
    MISSED_MISCARRIAGE_D_AND_C,
    TERMINATION,
    procedure,
)
from tests.records.real_shapes import export_of


def _her(treated: dict[str, Any]) -> list[dict[str, Any]]:
    """Eligible but for her previous miscarriage, recorded only as ``treated``, its procedure."""
    return [
        treated,
        bleeding(),
        lmp(),
        iup(),
        crl(),
    ]


# name -> (her procedure of 2019, the decision)
_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "completed": (procedure("p1", MISSED_MISCARRIAGE_D_AND_C), "offer"),
    "not-done": (
        procedure("p1", MISSED_MISCARRIAGE_D_AND_C, status="not-done"),
        "needs_information",
    ),
    "erpc-for-a-missed-miscarriage": (procedure("p1", ERPC, reason=MISSED_MISCARRIAGE), "offer"),
    "erpc-for-a-termination": (procedure("p1", ERPC, reason=TERMINATION), "needs_information"),
    "erpc-no-reason": (procedure("p1", ERPC), "needs_information"),
}


def test_the_audit_reads_a_previous_miscarriage_from_its_procedure(tmp_path: Path) -> None:
    export = one_export({name: export_of(_her(treated)) for name, (treated, _) in _CASES.items()})
    run_audit(write_export(export, tmp_path / "in"), tmp_path / "out")
    rows = {
        r["episode_id"]: r for r in pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    }
    for name, (_, decision) in _CASES.items():
        assert rows[f"enc-{name}"]["decision"] == decision, (name, rows[f"enc-{name}"])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["fhir_export"]
    assert summary["files_read"]["Procedure"] == ["Procedure.ndjson"]
    assert "Procedure" not in summary["skipped_resource_types"]
