"""A row spec with item rows (Observation's panel components, `rec.ItemRows`): the resources and
their item rows are each joined to their value-set masks, then unioned. Masked after the union,
DuckDB materialised the union (a CTE of every Observation's columns, read again by each mask's
unnest and by the join back: about a third of the clinical rows' CPU); the rows themselves are
checked by the engines-agree and panel-component tests."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.audit import fhir_read
from earlypath.audit.fhir_flat import AUDIT_READING
from earlypath.audit.fhir_read import flatten_fhir_duckdb
from earlypath.audit.load import duckdb_connect
from earlypath.records import ibis_compile
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import compile_rows, load_resources
from earlypath.records.plan_choice import SETTING as SPECIALISE_FROM_BYTES
from earlypath.records.value_codes import value_codes_table
from earlypath.synth.cohort import generate_chunks
from earlypath.synth.fhir_export import write_fhir

_APPENDED = 'INSERT INTO "flat_k_clinical'


@pytest.fixture(autouse=True)
def _specialised(monkeypatch: pytest.MonkeyPatch) -> None:
    """These exports are small: their reading is given the plan specialised to them (no version
    ranked, or only the repeated pairs'), the plans tested here (`plan_choice`)."""
    monkeypatch.setenv(SPECIALISE_FROM_BYTES, "0")


def test_the_clinical_rows_materialise_no_union_of_resources_and_item_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A strict expected failure at stop 28 (w-obs17): the joins of an Observation's versions
    (observation_chosen, observation_versions) made DuckDB materialise CTEs in the clinical
    rows' statement, one of them the Observations' columns. Since stop 29 an export whose
    (patient, id) pairs are each sent once (this one) reads those joins as the resource's own
    row (`earlypath.records.own_rows`): no join, the plan of stop 27."""
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", "off")
    write_fhir(generate_chunks(50, seed=3), tmp_path)
    con = duckdb_connect()
    plans: list[str] = []
    real = con.raw_sql

    def raw_sql(sql: str, *args: Any, **kwargs: Any) -> Any:
        # the clinical rows: made by their first part, each other appended (`union_parts`)
        if sql.startswith(('CREATE OR REPLACE TEMP TABLE "flat_k_clinical', _APPENDED)):
            explained = con.con.sql("EXPLAIN " + sql).fetchall()
            plans.append("\n".join(str(r[-1]) for r in explained))
        return real(sql, *args, **kwargs)

    con.raw_sql = raw_sql
    flatten_fhir_duckdb(con, tmp_path, "flat")
    assert len(plans) > 1
    every = "\n".join(plans)
    assert re.search(r"\bunnest\b", every, re.I)  # the masks' codings: the plans are read
    # no CTE materialised: none of the query's (``tN``), and since round 9 none of DuckDB's own
    # for a lateral unnest (``__duckdb_delim_N``, test_item_rows_carry_their_place_...)
    assert re.findall(r"CTE Name: (\S+)", every) == []


def test_item_rows_carry_their_place_without_a_lateral_join() -> None:
    """A panel's components are numbered (which item of its resource a row is: half of the key
    its masks are joined back on) inside the list before the unnest, not by ibis's
    unnest(offset=), whose ``UNNEST(LIST_ZIP(...))`` DuckDB plans as a lateral join holding every
    row's list in hash tables (the shape that did not fit under the flattening's memory cap:
    docs/speed.md, FHIR rounds 8 and 9). What the rows read is the panel tests' and the
    engines-agree tests'."""
    observations = tuple(r for r in READING.rows if r.items is not None)
    assert observations  # the Observation rows with their panel components
    # ... and the tables a scan report's item rows join (the version of its id read, stop 27),
    # and an Observation's (stop 28)
    joined = tuple(
        f"{kind}_{t}" for kind in ("report", "observation") for t in ("versions", "tops", "chosen")
    ) + tuple(  # and the panel lengths' tables (stop 31)
        f"observation_{t}" for t in ("component_crl", "component_msd", "items_differ")
    )  # ... and the Medications a methotrexate's reasons' rows join (stop 36)
    joined += ("medications",)
    rows = tuple(r for r in READING.rows if r.items is not None or r.table in joined)
    con = ibis.duckdb.connect()
    resources = load_resources(con, {}, READING, "t")  # no files: empty tables, same schema
    tables, _, _ = compile_rows(dataclasses.replace(READING, rows=rows), resources)
    sql = str(con.compile(tables[observations[0].table]))
    assert "UNNEST(" in sql.upper()
    assert "LIST_ZIP(" not in sql.upper()
    plan = "\n".join(str(r[-1]) for r in con.con.sql("EXPLAIN " + sql).fetchall()).lower()
    assert "unnest" in plan and "hash join" in plan  # the plan is read
    # a lateral join: a CTE of the rows (``__duckdb_delim_N``) numbered by a window
    # (``delim_index``), joined back on that number; on main three of them
    assert "delim" not in plan
    assert "window" not in plan


class _SeenPlans(dict):  # type: ignore[type-arg]
    """`ibis_compile._PLANS` noting the plan each reading takes: kept in memory (``get``), or
    read from the plan folder or compiled (then set)."""

    def __init__(self, kept: dict[Any, Any]) -> None:
        super().__init__(kept)
        self.taken: list[Any] = []

    def get(self, key: Any, default: Any = None) -> Any:
        plan = super().get(key, default)
        if plan is not None:
            self.taken.append(plan)
        return plan

    def __setitem__(self, key: Any, plan: Any) -> None:
        super().__setitem__(key, plan)
        self.taken.append(plan)


class _Sent:
    """A DuckDB connection that only notes the statements sent to it (a setting asked is
    none)."""

    name = "duckdb"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def raw_sql(self, sql: str) -> Any:
        self.sent.append(sql)
        return duckdb.sql("SELECT NULL")


def _sent_with_one_pair_repeated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement a compiled reading of 30 women, one (patient, id) of whose Observations
    is sent twice (versions to rank), sends when it compiles the audit's reading.

    Stop 52: the plan is the run's plan folder's, compiled here only when no test made it
    before: `test_fhir_memory.py`'s 20,000 women are read by the same plan (one repeated
    Observation pair; key 9f9a07b614 at stop 51), which this test compiled again with the folder
    off (about 20 CPU s). A replay sends the views written into the statements reading them
    (`_views_inlined`), so the statements are those of the plan the reading took, sent as its
    compile sent them (`ibis_compile._store`, and `_append` for a union's later parts) with this
    reading's table names."""
    write_fhir(generate_chunks(30, seed=3), tmp_path)
    observations = tmp_path / "Observation.ndjson"
    first = observations.read_text().splitlines()[0]
    with observations.open("a") as out:
        out.write(first + "\n")
    plans = _SeenPlans(ibis_compile._PLANS)
    monkeypatch.setattr(ibis_compile, "_PLANS", plans)
    taken: list[tuple[Any, dict[str, str]]] = []  # the audit reading's plan and table names
    reading = fhir_read.run_records

    def watched(
        con: Any, spec: Any, resources: Any, encounters: str, prefix: str, **kw: Any
    ) -> Any:
        before = len(plans.taken)
        out = reading(con, spec, resources, encounters, prefix, **kw)
        if spec is AUDIT_READING:
            assert kw.get("merged") is None and kw.get("by_identifier") is None  # none here
            (plan,) = plans.taken[before:]
            names = {f"@in_{r}@": t.get_name() for r, t in resources.items()}
            names |= {"@encounters@": encounters, "@prefix@": prefix}
            taken.append((plan, names | {"@value_codes@": value_codes_table(con).get_name()}))
        return out

    monkeypatch.setattr(fhir_read, "run_records", watched)
    flatten_fhir_duckdb(duckdb_connect(), tmp_path, "flat")
    ((plan, names),) = taken

    def named(text: str) -> str:
        for placeholder, name in names.items():
            text = text.replace(placeholder, name)
        return text

    compiled = _Sent()
    for i, (table, sql) in enumerate(plan.statements):
        made = ibis_compile._append if i in plan.appends else ibis_compile._store
        made(compiled, named(table), named(sql))
    return compiled.sent


_CREATED = re.compile(r'CREATE OR REPLACE TEMP (?:TABLE|VIEW) "flat_k_(\w+?)_\d+"')
_PAIRS_ROWS = "observation_chosen__repeated_Observation"


def test_the_repeated_pairs_observations_are_kept_once_and_read_by_their_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tables of an Observation's versions (stop 28: ``observation_versions``, ``_tops``,
    ``_items_differ``, ``_chosen``) and its panel lengths' (HAZ-20 C20.22, stop 31) hold rows
    of a (patient, id) sent more than once only. Stop 32 read every Observation in each and
    filtered at the end; stop 33 semi-joined the panel lengths' to the repeated pairs (each
    still reading every Observation); since stop 34 the repeated pairs' Observations are kept
    once (one statement reads the export's Observations, semi-joined to the pairs) and each of
    those tables reads that table only, as do the clinical rows of a held scan finding. What the rows say is the version tests'
    (test_panel_length_versions.py, test_versions_read_once.py, scan_shapes.py)."""
    sent = _sent_with_one_pair_repeated(tmp_path, monkeypatch)
    by_name: dict[str, list[str]] = {}
    for sql in sent:
        if (m := _CREATED.match(sql)) is not None:
            by_name.setdefault(m.group(1), []).append(sql)
    (kept,) = by_name[_PAIRS_ROWS]
    assert kept.count('"flat_r_Observation"') == 1
    assert re.search(r'SEMI JOIN \(SELECT .{0,200}?"flat_k_observation_\w+__repeated_\d+"', kept)
    tables = ("versions", "tops", "items_differ", "chosen", "component_crl", "component_msd")
    for table in tables:
        statements = [
            sql
            for name, sqls in by_name.items()
            if name in (f"observation_{table}", f"view_observation_{table}_Observation")
            for sql in sqls
        ]
        assert statements, table
        assert not any('"flat_r_Observation"' in sql for sql in statements), table
        assert any(f"flat_k_{_PAIRS_ROWS}_" in sql for sql in statements), table
    # ... and the clinical rows of a held scan finding (`_UNREAD_FINDING_ROWS`: their condition
    # asks first whether the pair repeats): on main a filter over every Observation keeping none
    # (stop 34), the export's Observations now read in the clinical statement only through the
    # views of the Observation rows' stages
    # (made by their first part, each other part appended: `union_parts`)
    (created,) = by_name["clinical"]
    clinical = "\n".join([created, *(sql for sql in sent if sql.startswith(_APPENDED))])
    assert '"flat_r_Observation"' not in clinical
    assert f"flat_k_{_PAIRS_ROWS}_" in clinical
