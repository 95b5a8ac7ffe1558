"""A list's first item (`first_item`): the reading writes it with the list once, by the engine's
index that is NULL for an empty or a NULL list (DuckDB's ``list_extract``, Spark's
``try_element_at``); with no engine named, the CASE that tests the length first (stop 40,
w-first40). Spark's value is the Spark reading-agreement tests' (no Spark session here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis
import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records import ibis_compile
from earlypath.records.definition import READING
from earlypath.records.first_item import first_item, first_items_for
from earlypath.records.ibis_compile import load_resources, run_records
from earlypath.records.plan_choice import SETTING as SPECIALISE_FROM_BYTES
from tests.integration.fhir_data import PATIENT_ID
from tests.records.sql_sent import sql_sent

# the CASE's length test and index, as DuckDB's SQL writes it (not any CASE whose branch takes a
# first item: the definition's own, e.g. a Medication's one ingredient's strength, stop 55)
_GUARDED = ") > 0 THEN LIST_EXTRACT("

_LISTS = {
    "numbers": [[], None, [None], [3, 4]],
    "codings": [[], None, [None], [{"code": "a"}, {"code": "b"}]],
}


_SCHEMA = {"numbers": "array<int64>", "codings": "array<struct<code: string>>"}


def _firsts(con: Any, engine: str | None) -> tuple[list[Any], str]:
    t = ibis.memtable(_LISTS, schema=_SCHEMA)
    with first_items_for(engine):
        out = t.select(n=first_item(t.numbers), code=first_item(t.codings)["code"])
    return out.to_pyarrow().to_pylist(), str(con.compile(out))


def test_duckdb_gives_null_for_the_first_item_of_an_empty_or_null_list() -> None:
    con = ibis.duckdb.connect()
    guarded, guarded_sql = _firsts(con, None)
    bare, bare_sql = _firsts(con, "duckdb")
    expected = [{"n": None, "code": None}] * 3 + [{"n": 3, "code": "a"}]
    assert guarded == expected
    assert bare == expected
    assert _GUARDED in guarded_sql
    assert "CASE" not in bare_sql


def test_spark_takes_a_first_item_by_try_element_at_and_equal_lists_give_equal_items() -> None:
    t = ibis.table(_SCHEMA, name="t")
    with first_items_for("pyspark"):
        first = first_item(t.codings.filter(lambda c: c["code"] != "x"))
        again = first_item(t.codings.filter(lambda c: c["code"] != "x"))
        number = first_item(t.numbers)
    # (one function per item type: ibis shares a part written twice only when it is equal)
    assert first.equals(again)
    sql = ibis.to_sql(t.select(code=first["code"], n=number), dialect="pyspark")
    assert "CASE" not in sql
    assert "ELEMENT_AT" not in sql.replace("TRY_ELEMENT_AT(", "")
    assert sql.count("FILTER(") == 1
    assert sql.count("TRY_ELEMENT_AT(") == 2


def _export(folder: Path) -> Path:
    """Her MedicationRequest naming a contained Medication (a contained list's first item)."""
    request = {
        "resourceType": "MedicationRequest",
        "id": "r1",
        "status": "completed",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": "2019-05-02",
        "contained": [{"resourceType": "Medication", "id": "m", "code": {"text": "Methotrexate"}}],
        "medicationReference": {"reference": "#m"},
        "reasonCode": [{"text": "Tubal pregnancy"}],
    }
    folder.mkdir()
    (folder / "MedicationRequest.ndjson").write_text(json.dumps(request) + "\n", encoding="utf-8")
    return folder


def test_the_duckdb_reading_writes_each_first_item_without_a_length_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ibis_compile, "_PLANS", {})
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", "off")
    # the plan of this export's one type, compiled here (as written, stop 40): below the
    # setting, the general plan of every type (`plan_choice`) was compiled cold for this test
    # alone, with no plan folder to keep it (about 35 CPU s more, stop 48)
    monkeypatch.setenv(SPECIALISE_FROM_BYTES, "0")
    folder = _export(tmp_path / "export")
    con = ibis.duckdb.connect()
    con.raw_sql(
        "CREATE TABLE keys AS SELECT 0::BIGINT AS _key, 'enc-1' AS encounter, "
        f"'{PATIENT_ID}' AS patient, DATE '2019-05-10' AS assessed_on"
    )
    resources = load_resources(
        con, {"MedicationRequest": [folder / "MedicationRequest.ndjson"]}, READING, "r"
    )
    sent = sql_sent(con)
    run_records(con, READING, resources, "keys", "k")
    extracts = sum(s.count("LIST_EXTRACT(") for s in sent)
    assert extracts > 0  # the first items were read
    assert not any(_GUARDED in s for s in sent)
