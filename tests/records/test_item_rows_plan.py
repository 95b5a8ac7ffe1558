"""A row spec with item rows (Observation's panel components, `rec.ItemRows`): the resources and
their item rows are each joined to their value-set masks, then unioned. Masked after the union,
DuckDB materialised the union (a CTE of every Observation's columns, read again by each mask's
unnest and by the join back: about a third of the clinical rows' CPU); the rows themselves are
checked by the engines-agree and panel-component tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.audit.fhir_read import flatten_fhir_duckdb
from earlypath.audit.load import duckdb_connect
from earlypath.synth.cohort import generate_chunks
from earlypath.synth.fhir_export import write_fhir


def test_the_clinical_rows_materialise_no_union_of_resources_and_item_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", "off")
    write_fhir(generate_chunks(50, seed=3), tmp_path)
    con = duckdb_connect()
    plans: list[str] = []
    real = con.raw_sql

    def raw_sql(sql: str, *args: Any, **kwargs: Any) -> Any:
        if sql.startswith('CREATE OR REPLACE TEMP TABLE "flat_k_clinical'):
            explained = con.con.sql("EXPLAIN " + sql).fetchall()
            plans.append("\n".join(str(r[-1]) for r in explained))
        return real(sql, *args, **kwargs)

    con.raw_sql = raw_sql
    flatten_fhir_duckdb(con, tmp_path, "flat")
    assert len(plans) == 1
    assert re.search(r"\bunnest\b", plans[0], re.I)  # the masks' codings: the plan is read
    # DuckDB's own CTEs of an unnest (``__duckdb_delim_N``) only; none of the query's (``tN``)
    materialised = re.findall(r"CTE Name: (\S+)", plans[0])
    assert materialised and all(name.startswith("__duckdb") for name in materialised)
