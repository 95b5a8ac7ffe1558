"""The count of the resources naming their patient by an identifier only (the identifier tie's
first question, asked of every FHIR audit) is run from SQL kept between runs
(`earlypath.records.kept_count`): the number is what the compiled row specs count, with and
without such resources, and a new process with other table names replays the kept SQL without
compiling the row specs again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_flat import RESOURCES
from earlypath.audit.fhir_read import _LOADED, _NAMED
from earlypath.records import ibis_compile, kept_count
from earlypath.records.ibis_compile import compile_rows, load_resources
from tests.fhir_exports import write_export
from tests.integration.fhir_data import eligible_resources
from tests.records.identifier_shapes import identifier_export
from tests.records.real_shapes import export_of

TABLE = "identified_subjects"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("kept-count")
    with_ids, _ = identifier_export()
    return {
        "named by identifier": write_export(with_ids, folder / "with"),
        "literal references only": write_export(export_of(eligible_resources()), folder / "none"),
    }


def _loaded(folder: Path, prefix: str) -> tuple[Any, Any]:
    con = ibis.duckdb.connect()
    resources = load_resources(con, discover_export(folder, RESOURCES).files, _LOADED, prefix)
    return con, resources


def _compiled_count(folder: Path) -> int:
    """The reference: the row specs compiled and counted by ibis, nothing kept."""
    con, resources = _loaded(folder, "ref_r")
    rows = compile_rows(_NAMED, resources)[0][TABLE]
    return int(rows.count().execute())


def _kept(folder: Path, prefix: str) -> int:
    con, resources = _loaded(folder, prefix)
    return kept_count.count_rows(con, _NAMED, resources, TABLE)


def test_the_kept_count_is_the_compiled_count_and_replayed_in_a_new_process(
    exports: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(tmp_path))
    monkeypatch.setattr(kept_count, "_SQL", {})
    expected = {name: _compiled_count(folder) for name, folder in exports.items()}
    assert expected["named by identifier"] > 0
    assert expected["literal references only"] == 0
    first = {name: _kept(folder, "first_r") for name, folder in exports.items()}
    assert first == expected
    assert len(list(tmp_path.glob("*.json"))) == 1  # one SQL: the schemas are the same

    def no_compiling(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled again")

    monkeypatch.setattr(kept_count, "_SQL", {})  # as a new process
    monkeypatch.setattr(kept_count, "compile_rows", no_compiling)
    monkeypatch.setattr(ibis_compile, "compile_rows", no_compiling)
    again = {name: _kept(folder, "another_name_r") for name, folder in exports.items()}
    assert again == expected


def test_the_count_computes_no_column_of_the_rows(
    exports: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the rows are counted: the kept SQL reads no identifier value, no NHS number check
    (about 600 regular expressions since stop 26, six times the count's CPU, w12-fhir11), and
    still counts what the row specs with their columns give (the test above)."""
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(tmp_path))
    monkeypatch.setattr(kept_count, "_SQL", {})
    folder = exports["named by identifier"]
    assert _kept(folder, "first_r") == _compiled_count(folder)
    (sql,) = kept_count._SQL.values()
    for column in ("system", "value", "nhs_number_not_valid"):
        assert f'"{column}"' not in sql
    assert "REGEXP" not in sql.upper()
