"""The FHIR audit reads Procedure.ndjson (it was skipped as a type no row spec read, stop 31): a
woman eligible for progesterone (NG126 1.5.2, 2021 text: bleeding, a confirmed intrauterine
pregnancy, a previous miscarriage) whose previous miscarriage is recorded only as the procedure
that treated it is judged "offer", not "needs_information"; one whose procedure was not done
stays "needs_information" (unknown is never "no previous miscarriage")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from earlypath.audit.run import run_audit
from tests.fhir_exports import one_export, write_export
from tests.integration.fhir_data import bleeding, crl, iup, lmp
from tests.records.previous_history_shapes import MISSED_MISCARRIAGE_D_AND_C, procedure
from tests.records.real_shapes import export_of


def _her(status: str) -> list[dict[str, Any]]:
    """Eligible but for her previous miscarriage, recorded only as its procedure (2019)."""
    return [
        procedure("p1", MISSED_MISCARRIAGE_D_AND_C, status=status),
        bleeding(),
        lmp(),
        iup(),
        crl(),
    ]


def test_the_audit_reads_a_previous_miscarriage_from_its_procedure(tmp_path: Path) -> None:
    export = one_export({status: export_of(_her(status)) for status in ("completed", "not-done")})
    run_audit(write_export(export, tmp_path / "in"), tmp_path / "out")
    rows = {
        r["episode_id"]: r for r in pq.read_table(tmp_path / "out" / "episodes.parquet").to_pylist()
    }
    done, not_done = rows["enc-completed"], rows["enc-not-done"]
    assert done["decision"] == "offer", done
    assert not_done["decision"] == "needs_information", not_done
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["fhir_export"]
    assert summary["files_read"]["Procedure"] == ["Procedure.ndjson"]
    assert "Procedure" not in summary["skipped_resource_types"]
