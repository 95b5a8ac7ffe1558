"""The compiled SQL of the audit's reading is kept on disk: a second process replays it (no
compiling) and reads the very same rows; the key does not depend on set order; a folder others
can write is not trusted; ``off`` keeps nothing."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import ibis
import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.audit.fhir_read import flatten_fhir_duckdb
from earlypath.errors import ConfigError
from earlypath.records import ibis_compile, kept_count, plan_cache
from earlypath.records.plan_choice import SETTING as SPECIALISE_FROM_BYTES
from earlypath.synth.cohort import generate_chunks
from earlypath.synth.fhir_export import write_fhir


@pytest.fixture(autouse=True)
def _specialised(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kind of kept SQL is tested here, the repeated pairs' counts too: the small export
    is read by its specialised plan (below the setting, `plan_choice`, nothing is counted)."""
    monkeypatch.setenv(SPECIALISE_FROM_BYTES, "0")


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    write_fhir(generate_chunks(40, seed=3), folder)
    return folder


def _flat(folder: Path) -> list[Any]:
    return _flat_with_tables(folder)[0]


def _flat_with_tables(folder: Path) -> tuple[list[Any], frozenset[str]]:
    """The export's flat rows, and the tables its connection holds after the reading."""
    con = ibis.duckdb.connect()
    flatten_fhir_duckdb(con, folder, "flat")
    tables = {r[0] for r in con.con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    return con.con.sql("SELECT * FROM flat_t ORDER BY row_number").fetchall(), frozenset(tables)


@dataclasses.dataclass(frozen=True)
class Compiled:
    """One compiling reading of the export with a fresh plan folder: the folder, the rows, the
    process's plans and counts' SQL as that reading left them, and the tables its connection
    held after it."""

    folder: Path
    rows: list[Any]
    plans: dict[Any, Any]
    counts_sql: dict[Any, Any]
    tables: frozenset[str]


@pytest.fixture(scope="module")
def compiled(export: Path, tmp_path_factory: pytest.TempPathFactory) -> Compiled:
    """The compiling run both replay tests start from (each once compiled its own, ~20 s in
    CI): nothing kept before it, in memory or on disk, as in a new process on a fresh clone."""
    folder = tmp_path_factory.mktemp("plans")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EARLYPATH_PLAN_CACHE", str(folder))
        mp.setenv(SPECIALISE_FROM_BYTES, "0")
        mp.setattr(ibis_compile, "_PLANS", {})
        mp.setattr(kept_count, "_SQL", {})
        rows, tables = _flat_with_tables(export)
        made = Compiled(folder, rows, dict(ibis_compile._PLANS), dict(kept_count._SQL), tables)
    # kept in the run's own plan folder too, under the keys they were compiled for: a later
    # reading of this shape (test_item_rows_plan's 50 women) replays them, not compiles them
    for kept in folder.glob("*.json"):
        if plan_cache.load_plan(kept.stem) is None:
            plan_cache.save_plan(kept.stem, json.loads(kept.read_text(encoding="utf-8")))
    return made


def test_a_new_process_replays_the_kept_sql(
    export: Path, compiled: Compiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the reading's plan, the identifier count's SQL (`kept_count`, since stop 24), the
    # untied-care first look's (`untied_care`, since stop 27) and the counts of repeated
    # (patient, id) pairs of the two versioned types, Observation and DiagnosticReport
    # (`counted_joined_tables`, since stop 29; and Procedure since stop 52, an ImagingStudy's
    # `procedureReference` joined to it), each replayed below without compiling
    assert len(list(compiled.folder.glob("*.json"))) == 6

    def no_compiling(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled again")

    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(compiled.folder))
    monkeypatch.setattr(ibis_compile, "_PLANS", {})  # as a new process
    monkeypatch.setattr(kept_count, "_SQL", {})
    monkeypatch.setattr(ibis_compile, "_record_plan", no_compiling)
    monkeypatch.setattr(kept_count, "_compile", no_compiling)
    assert _flat(export) == compiled.rows
    assert len(compiled.rows) == 40


def test_off_keeps_nothing(
    export: Path, compiled: Compiled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is written with ``off``: the reading's plan (saved by the same `save_plan` as the
    others) is the compiling run's, as a process finds it in memory after its first reading (a
    cold compile of its own was 17-30 CPU s of this module, w-plans51); every other plan of the
    reading (its kept counts, the untied care's and DuckDB's audit plans) is made anew here
    and offered to the folder, which must stay empty."""
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", "off")
    monkeypatch.setattr(plan_cache.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(ibis_compile, "_PLANS", dict(compiled.plans))
    monkeypatch.setattr(kept_count, "_SQL", {})
    offered: list[str] = []
    save = plan_cache.save_plan

    def offering(key: str, plan: dict[str, Any]) -> None:
        offered.append(key)
        save(key, plan)

    monkeypatch.setattr(plan_cache, "save_plan", offering)
    _flat(export)
    assert offered  # (plans were offered to the folder: the setting is what keeps them out)
    assert not list(tmp_path.rglob("*.json"))


def test_a_folder_others_can_write_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(tmp_path))
    plan_cache.save_plan("k", {"statements": []})
    assert plan_cache.load_plan("k") == {"statements": []}
    tmp_path.chmod(0o777)
    assert plan_cache.load_plan("k") is None


def test_the_key_does_not_depend_on_set_order() -> None:
    assert plan_cache.canonical(frozenset({"b", "a", "c"})) == "set('a', 'b', 'c')"
    assert plan_cache.plan_key({"x": frozenset({"p", "q"})}) == plan_cache.plan_key(
        {"x": frozenset({"q", "p"})}
    )
    assert plan_cache.plan_key("one") != plan_cache.plan_key("two")


def test_the_audit_drops_each_work_table_once_read(
    export: Path, compiled: Compiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory: the resource tables and the steps' tables are dropped once no later statement
    reads them; the episodes (and the rows the reading returns) stay. Both the compiling run
    (its tables made as the plan is compiled) and a reading replaying its plan (each table
    made, then dropped, in turn) are looked at, from one compile for the module (w-plans51)."""
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(compiled.folder))
    monkeypatch.setattr(ibis_compile, "_PLANS", dict(compiled.plans))
    monkeypatch.setattr(kept_count, "_SQL", dict(compiled.counts_sql))
    replayed = _flat_with_tables(export)
    for rows, tables in [(compiled.rows, compiled.tables), replayed]:
        assert not [t for t in tables if t.startswith("flat_r_")]
        episodes = [t for t in tables if t.startswith("flat_k_episodes_")]
        assert len(episodes) == 1
        assert len(rows) == 40  # (the rows of flat_t)


def test_a_replayed_reading_creates_no_view(
    export: Path, compiled: Compiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replayed from its kept plan, a DuckDB reading writes its views into the statements that
    read them (`ibis_compile._views_inlined`): DuckDB bound each view's query when creating it
    and again where it was read. The same rows as the compiling run, which created them."""
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(compiled.folder))
    # the plans the compiling run kept in memory, as the next reading of its process finds them
    monkeypatch.setattr(ibis_compile, "_PLANS", dict(compiled.plans))
    monkeypatch.setattr(kept_count, "_SQL", dict(compiled.counts_sql))
    con = ibis.duckdb.connect()
    flatten_fhir_duckdb(con, export, "flat")
    views = {r[0] for r in con.con.sql("SELECT view_name FROM duckdb_views()").fetchall()}
    assert not [v for v in views if v.startswith("flat_k_view_")]
    assert con.con.sql("SELECT * FROM flat_t ORDER BY row_number").fetchall() == compiled.rows


class _Counted:
    """A value whose text is counted (`plan_cache.canonical` gives ``repr`` for it)."""

    def __init__(self) -> None:
        self.written = 0

    def __repr__(self) -> str:
        self.written += 1
        return "counted"


def test_a_definitions_text_is_written_once_a_process() -> None:
    """A reading asks for the key of one definition several times (its kept counts and its
    plan): a frozen dataclass is written out once (about 30 ms for the audit's), and keys
    stay those of the whole tuple's `canonical` text."""

    @dataclasses.dataclass(frozen=True)
    class Definition:
        part: _Counted

    part = _Counted()
    definition = Definition(part)
    first = plan_cache.plan_key(definition, ("schema", 1))
    assert plan_cache.plan_key(definition, ("schema", 1)) == first
    assert part.written == 1
    assert plan_cache.plan_key(Definition(_Counted()), ("schema", 1)) == first
    assert plan_cache.plan_key(definition, ("schema", 2)) != first


def test_the_duckdb_plan_unnests_its_lists_in_the_select_list(compiled: Compiled) -> None:
    """DuckDB planned each ``CROSS JOIN UNNEST`` as a lateral join and rewrote it back into its
    UNNEST operator, half the clinical statement's planning (`select_unnest`, docs/speed.md FHIR
    round 32): the kept plan unnests in the select list, and no statement joins an unnest."""
    sql = [s for plan in compiled.plans.values() for _, s in plan.statements]
    assert any("REPLACE (UNNEST(" in s for s in sql)
    assert not [s for s in sql if "JOIN UNNEST(" in s]


def test_the_duckdb_plan_appends_the_parts_of_a_union(compiled: Compiled) -> None:
    """A stored union of row specs (the clinical rows: eight) is made by its first part, each
    other part appended to it (`union_parts`, docs/speed.md FHIR round 34): the replays above
    read the same rows from the kept plan as the compiling run did."""
    appended: set[str] = set()
    for plan in compiled.plans.values():
        for i in plan.appends:
            table = plan.statements[i][0]
            assert table in {t for t, _ in plan.statements[:i]}  # made by an earlier one
            appended.add(table)
    assert [t for t in appended if "_clinical_" in t]


def _ended_process_id() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_second_process_waits_for_the_plan_being_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers wanting one plan cold: the one that finds the other's lock (a live process:
    this one stands for it) waits for its plan, then reads it kept rather than compiling it."""
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(tmp_path))
    (tmp_path / "k.lock").write_text(str(os.getpid()))
    later = threading.Timer(0.5, plan_cache.save_plan, ("k", {"statements": []}))
    start = time.monotonic()
    later.start()
    with plan_cache.compiling("k"):
        waited = time.monotonic() - start
        assert plan_cache.load_plan("k") == {"statements": []}
    later.join()
    assert waited >= 0.4
    assert (tmp_path / "k.lock").exists()  # (not this one's lock: left to its holder)


def test_a_lock_is_held_while_compiling_and_removed_after_even_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(tmp_path))
    with plan_cache.compiling("k"):
        assert (tmp_path / "k.lock").read_text() == str(os.getpid())
    assert not (tmp_path / "k.lock").exists()
    with pytest.raises(RuntimeError), plan_cache.compiling("k"):
        raise RuntimeError("the compile failed")
    assert not (tmp_path / "k.lock").exists()


def test_a_stale_lock_of_an_ended_process_never_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(tmp_path))
    monkeypatch.setenv(plan_cache.LOCK_WAIT_SETTING, "60")
    for stale in (str(_ended_process_id()), "", "not a process"):
        (tmp_path / "k.lock").write_text(stale)
        start = time.monotonic()
        with plan_cache.compiling("k"):
            assert (tmp_path / "k.lock").read_text() == str(os.getpid())
        assert time.monotonic() - start < 5
        assert not (tmp_path / "k.lock").exists()


def test_a_wait_for_a_plan_that_never_comes_ends_and_the_process_compiles_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(tmp_path))
    monkeypatch.setenv(plan_cache.LOCK_WAIT_SETTING, "0.3")
    (tmp_path / "k.lock").write_text(str(os.getpid()))
    start = time.monotonic()
    with plan_cache.compiling("k"):
        assert plan_cache.load_plan("k") is None
    assert time.monotonic() - start >= 0.3
    assert (tmp_path / "k.lock").exists()


def test_no_lock_without_a_folder_and_a_bad_wait_names_its_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", "off")
    monkeypatch.setattr(plan_cache.tempfile, "gettempdir", lambda: str(tmp_path))
    with plan_cache.compiling("k"):
        pass
    assert not list(tmp_path.rglob("*.lock"))
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(tmp_path))
    monkeypatch.setenv(plan_cache.LOCK_WAIT_SETTING, "soon")
    with pytest.raises(ConfigError, match=plan_cache.LOCK_WAIT_SETTING), plan_cache.compiling("k"):
        pass
