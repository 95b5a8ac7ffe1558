"""The FHIR flattening on DuckDB under a memory cap (`fhir_read.capped_memory`): the cap holds
while it reads, blocks beyond it go to a private folder (not DuckDB's ``.tmp`` in the working
directory), the rows are the same as without a cap, and the default limit comes back after."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import ibis
import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.audit import fhir_read
from earlypath.audit.fhir_files import discover_export
from earlypath.audit.fhir_flat import RESOURCES
from earlypath.synth.cohort import generate_chunks
from earlypath.synth.fhir_export import write_fhir


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    write_fhir(generate_chunks(20000, seed=5), folder)
    return folder


@pytest.fixture(scope="module")
def uncapped(export: Path) -> list[Any]:
    """The rows read with no cap at all."""
    con = ibis.duckdb.connect()
    fhir_read.read_fhir_export(con, discover_export(export, RESOURCES, ()), "flat")
    return con.con.sql("SELECT * FROM flat_t ORDER BY row_number").fetchall()


def _setting(con: Any, name: str) -> str:
    return con.con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]


def _flat(con: Any, folder: Path) -> list[Any]:
    fhir_read.flatten_fhir_duckdb(con, folder, "flat")
    return con.con.sql("SELECT * FROM flat_t ORDER BY row_number").fetchall()


def test_the_cap_holds_while_reading_and_the_default_comes_back(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = ibis.duckdb.connect()
    con.raw_sql("SET threads = 2")
    default = _setting(con, "memory_limit")
    seen: list[str] = []
    reading = fhir_read.read_fhir_export

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(_setting(con, "memory_limit"))
        return reading(*args, **kwargs)

    monkeypatch.setattr(fhir_read, "read_fhir_export", watched)
    _flat(con, export)
    assert seen == ["256.0 MiB"]
    assert _setting(con, "memory_limit") == default


def test_blocks_beyond_the_cap_go_to_a_private_folder_and_the_rows_do_not_change(
    export: Path, uncapped: list[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # DuckDB's default folder would be ./.tmp
    monkeypatch.setattr(fhir_read, "FLATTEN_MEMORY_BASE_MIB", 0)
    # 96 MiB, not 64 (stop 44): with a panel's contained members read (stop 43) the
    # Observations' typed load alone needs more than 64 MiB on one thread, so under 64 the
    # reading failed at its first step and ran again without a cap, before any block could be
    # written out; under 96 it loads, writes blocks out later and ends under the cap
    monkeypatch.setattr(fhir_read, "FLATTEN_MEMORY_PER_THREAD_MIB", 96)
    con = ibis.duckdb.connect()
    con.raw_sql("SET threads = 1")
    spilled: list[int] = []
    reading, dropping = fhir_read.read_fhir_export, fhir_read.drop_input

    def look() -> None:
        spilled.append(
            con.con.execute("SELECT count(*) FROM duckdb_temporary_files()").fetchall()[0][0]
        )

    def watched(*args: Any, **kwargs: Any) -> Any:
        out = reading(*args, **kwargs)
        look()
        return out

    def watched_drop(*args: Any, **kwargs: Any) -> Any:
        look()  # in the middle of the reading: blocks written out may be freed by its end
        return dropping(*args, **kwargs)

    monkeypatch.setattr(fhir_read, "read_fhir_export", watched)
    monkeypatch.setattr(fhir_read, "drop_input", watched_drop)
    assert _flat(con, export) == uncapped
    assert max(spilled) > 0  # the cap was reached: some blocks were written out
    folder = Path(_setting(con, "temp_directory"))
    assert folder.parent == Path(fhir_read.tempfile.gettempdir())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not (tmp_path / ".tmp").exists()


def test_a_reading_that_cannot_fit_under_the_cap_runs_again_without_it(
    export: Path, uncapped: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fhir_read, "FLATTEN_MEMORY_BASE_MIB", 8)
    monkeypatch.setattr(fhir_read, "FLATTEN_MEMORY_PER_THREAD_MIB", 0)
    con = ibis.duckdb.connect()
    tries: list[str] = []
    reading = fhir_read.read_fhir_export

    def watched(*args: Any, **kwargs: Any) -> Any:
        tries.append(_setting(con, "memory_limit"))
        return reading(*args, **kwargs)

    monkeypatch.setattr(fhir_read, "read_fhir_export", watched)
    assert _flat(con, export) == uncapped
    assert tries[0] == "8.0 MiB" and len(tries) == 2
