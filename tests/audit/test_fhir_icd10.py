"""The FHIR audit reads hospital diagnoses coded in ICD-10 only as the CDS service does (issue 12,
real records; `tests.records.icd10_shapes`), on DuckDB, the Python engine and Spark alike: an
ectopic pregnancy or a miscarriage at the encounter is "do not offer" (it was "offer": the
eligible-not-offered measure counted the right care as a gap), a previous or recurrent
miscarriage and bleeding count, and an ambiguous history code leaves the count unknown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from tests.fhir_exports import one_export, write_export
from tests.records.icd10_shapes import (
    BLEEDING,
    ECTOPIC_TODAY,
    LEFT_OUT_PREVIOUS,
    MISCARRIAGE_TODAY,
    PREVIOUS,
    READ_BLEEDING,
    READ_ECTOPIC_TODAY,
    READ_LEFT_OUT_BLEEDING,
    READ_LEFT_OUT_PREVIOUS,
    READ_MISCARRIAGE_TODAY,
    READ_PREVIOUS,
    with_bleeding,
    with_diagnosis_today,
    with_previous,
)
from tests.records.real_shapes import export_of

ENGINES = ["duckdb", "python"]


def _cases() -> dict[str, tuple[dict[str, list[dict[str, Any]]], str]]:
    """Each woman's export and the decision her encounter must get."""
    cases = {}
    for shapes, build, decision in (
        (ECTOPIC_TODAY, with_diagnosis_today, "do_not_offer"),
        (MISCARRIAGE_TODAY, with_diagnosis_today, "do_not_offer"),
        (READ_ECTOPIC_TODAY, with_diagnosis_today, "do_not_offer"),
        (READ_MISCARRIAGE_TODAY, with_diagnosis_today, "do_not_offer"),
        (PREVIOUS, with_previous, "offer"),
        (BLEEDING, with_bleeding, "offer"),
        (LEFT_OUT_PREVIOUS, with_previous, "needs_information"),
        (READ_PREVIOUS, with_previous, "offer"),
        (READ_BLEEDING, with_bleeding, "offer"),
        (READ_LEFT_OUT_PREVIOUS, with_previous, "needs_information"),
        (READ_LEFT_OUT_BLEEDING, with_bleeding, "needs_information"),
    ):
        for shape, coded in shapes.items():
            name = f"{build.__name__}-{shape}"
            cases[name] = (export_of(build(coded)), decision)
    return cases


def _decisions(folder: Path, out: Path, engine: str, **kwargs: Any) -> dict[str, dict]:
    run_audit(folder, out, engine=engine, **kwargs)  # type: ignore[arg-type]
    rows = pq.read_table(out / "episodes.parquet").to_pylist()
    return {r["episode_id"].removeprefix("enc-"): r for r in rows}


def _check(rows: dict[str, dict]) -> None:
    cases = _cases()
    assert set(rows) == set(cases)
    for name, (_, decision) in cases.items():
        assert rows[name]["decision"] == decision, name
        if decision == "needs_information":
            wanted = "vaginal_bleeding" if "bleeding" in name else "previous_miscarriages"
            assert wanted in rows[name]["missing"], name


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exports = {name: export for name, (export, _) in _cases().items()}
    return write_export(one_export(exports), tmp_path_factory.mktemp("icd10") / "in")


@pytest.fixture(scope="module")
def audited(
    export_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], dict[str, dict]]:
    """``audited(engine)``: the rows of that engine's audit of the export, audited once when first
    asked (the engines' agreement audited each again until stop 50)."""
    rows: dict[str, dict[str, dict]] = {}

    def audit(engine: str) -> dict[str, dict]:
        if engine not in rows:
            out = tmp_path_factory.mktemp(f"icd10-{engine}") / "out"
            rows[engine] = _decisions(export_folder, out, engine)
        return rows[engine]

    return audit


@pytest.mark.parametrize("engine", ENGINES)
def test_icd10_diagnoses_are_read_in_the_audit(
    engine: str, audited: Callable[[str], dict[str, dict]]
) -> None:
    _check(audited(engine))


def test_the_engines_agree_on_icd10_diagnoses(audited: Callable[[str], dict[str, dict]]) -> None:
    duck = audited("duckdb")
    assert duck == audited("python")


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).
