"""A resource type no file holds a line of (`LoadedResources.absent`: an export without scan
reports, or with an empty DiagnosticReport.ndjson as exporters write one for every type) is not
in the compiled plan: its row specs gave only empty parts of a union, which cost the plan about
0.45 CPU s at 5,000 patients (stop 22). The reading is the same either way, and the plan kept
is keyed on the row specs left out (an export that has those types gets its own; an absent type
whose specs are compiled anyway, each the only one of its table, shares the plan)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis
import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.audit.fhir_read import AUDIT_READING
from earlypath.records import ibis_compile
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import LoadedResources, left_out, load_resources, run_records
from earlypath.records.ir import RowSpec
from earlypath.records.kept_count import counted_joined_tables
from earlypath.records.needed_joins import empty_tables, joins_needed, never_found
from earlypath.records.plan_choice import SETTING as SPECIALISE_FROM_BYTES
from earlypath.rules.ir import Const
from tests.audit.test_fhir_mapping_agrees import assert_agrees
from tests.integration.fhir_data import PATIENT_ID, day, eligible_resources
from tests.records.previous_history_shapes import by_reference, methotrexate
from tests.records.real_shapes import export_of
from tests.records.sql_sent import sql_sent


@pytest.fixture(autouse=True)
def _specialised(monkeypatch: pytest.MonkeyPatch) -> None:
    """These exports are small: without the setting at 0 their reading is given the general
    plan, no type left out (`plan_choice`); the plans that leave types out are tested here."""
    monkeypatch.setenv(SPECIALISE_FROM_BYTES, "0")


def _export(folder: Path) -> dict[str, list[Path]]:
    """Her record (no scan report) with an empty DiagnosticReport.ndjson and a blank
    MedicationStatement.ndjson, and no Medication.ndjson though a methotrexate for an ectopic
    names "Medication/mtx9" (stop 38)."""
    folder.mkdir()
    named = by_reference(methotrexate("x1"), {"reference": "Medication/mtx9"})
    for kind, resources in export_of([*eligible_resources(), named]).items():
        (folder / f"{kind}.ndjson").write_text(
            "".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8"
        )
    (folder / "DiagnosticReport.ndjson").write_text("", encoding="utf-8")
    (folder / "MedicationStatement.ndjson").write_text("\n\n", encoding="utf-8")
    return {p.stem: [p] for p in sorted(folder.glob("*.ndjson"))}


def _read(con: Any, resources: Any, prefix: str) -> tuple[list[dict], list[dict]]:
    con.raw_sql(
        f"CREATE OR REPLACE TABLE {prefix}_keys AS SELECT 0::BIGINT AS _key, 'enc-1' AS "
        f"encounter, '{PATIENT_ID}' AS patient, DATE '{day()}' AS assessed_on"
    )
    out = run_records(con, READING, resources, f"{prefix}_keys", f"{prefix}_k")
    assert out.episodes is not None
    return out.episodes.to_pyarrow().to_pylist(), out.problems.to_pyarrow().to_pylist()


def test_a_type_without_lines_is_left_out_of_the_plan_and_the_reading_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (the plans kept by other tests, or on disk, are replayed: their statements are sent too)
    files = _export(tmp_path / "export")
    con = ibis.duckdb.connect()
    sent = sql_sent(con)
    loaded = load_resources(con, files, READING, "a_r")
    assert {"DiagnosticReport", "MedicationStatement"} <= loaded.absent
    assert "Observation" not in loaded.absent
    sent.clear()
    without = _read(con, loaded, "a")
    # the stored episodes hold the encounter and its steps, no aggregate's working column
    # (``_a1`` ...: half the audit's episodes table, and a third of the CPU storing it)
    steps = [name for name, _ in READING.steps]
    assert list(without[0][0]) == ["_key", "encounter", "patient", "assessed_on", *steps]
    # read only to make the one table no other type gives (empty), not in any other's union
    # (stop 27: the tables of a report's versions are made so too)
    reads = [sql for sql in sent if '"a_r_DiagnosticReport"' in sql]
    # (stop 48: and the results of unfinished reports, which the Observation rows join; stop 52:
    # the studies a report read refers to, which the ImagingStudy rows join)
    only_reports = (
        "report_reads",
        "report_versions",
        "report_tops",
        "report_chosen",
        "unfinished_results",
        "reported_studies",
    )
    # (a table may be made from a view of the reports read, its shared parts: stop 28's
    # per-patient versions share their subject so)
    made = sorted(t for t in only_reports for sql in sent if f'TABLE "a_k_{t}_' in sql)
    assert made == sorted(only_reports) and len(reads) == len(only_reports)
    # (views not counted: a compiled plan creates them, a replayed one writes them into the
    # statements reading them, `ibis_compile._views_inlined`)
    fewer = len(_without_views(sent))
    # no Medication: the Medication a record names is never found, and its join is not written
    # (`needed_joins.never_found`, stop 38), yet what it names is said
    assert "Medication" in loaded.absent
    assert _medications_read(sent, "a") == []
    assert [p for p in without[1] if "names Medication/mtx9" in p["message"]], without[1]
    # the same tables read as if they had lines: the same reading, from a plan of its own
    every = load_resources(con, files, READING, "b_r")
    sent.clear()
    assert _read(con, LoadedResources(every, frozenset()), "b") == without
    assert sum('"b_r_DiagnosticReport"' in sql for sql in sent) > 1
    assert len(_without_views(sent)) > fewer
    # (there, the Medications' table is joined, empty: the check above can fail)
    assert _medications_read(sent, "b")
    # below the setting's default (`plan_choice`) the small export is given that general plan:
    # read the same, its absent types read, nothing counted, no plan of its own
    monkeypatch.delenv(SPECIALISE_FROM_BYTES)
    plans = len(ibis_compile._PLANS)
    sent.clear()
    assert counted_joined_tables(con, READING, loaded) == (frozenset(), frozenset())
    assert sent == []
    assert _read(con, loaded, "c") == without
    assert sum('"a_r_DiagnosticReport"' in sql for sql in sent) > 1
    assert len(ibis_compile._PLANS) == plans


def _medications_read(sent: list[str], prefix: str) -> list[str]:
    """The statements of the reading ``prefix`` that read its Medications' table (a view or a
    table joining it; not the one making it, nor its drop)."""
    table = f"{prefix}_k_medications"
    made = f'CREATE OR REPLACE TEMP TABLE "{table}'
    return [sql for sql in sent if table in sql and not sql.startswith(("DROP", made))]


def _without_views(sent: list[str]) -> list[str]:
    return [sql for sql in sent if not sql.startswith("CREATE OR REPLACE TEMP VIEW")]


# Each the only row spec of its table in the audit's reading: compiled whether it has lines or not.
# (Medication too: since stop 39 no methotrexate spec needs its row, below.)
ALONE = ("AllergyIntolerance", "MedicationRequest", "MedicationStatement")


def _her_medicines() -> list[dict[str, Any]]:
    """A prescription naming a Medication, a medicine she says she takes and an allergy."""
    her = {"reference": f"Patient/{PATIENT_ID}"}
    return [
        {"resourceType": "Medication", "id": "m-1", "code": {"text": "Utrogestan 200 mg"}},
        {
            "resourceType": "MedicationRequest",
            "id": "r-1",
            "status": "active",
            "intent": "order",
            "subject": her,
            "authoredOn": day(-3),
            "medicationReference": {"reference": "Medication/m-1"},
        },
        {
            "resourceType": "MedicationStatement",
            "id": "s-1",
            "status": "active",
            "subject": her,
            "medicationCodeableConcept": {"text": "folic acid"},
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "a-1",
            "patient": her,
            "code": {"text": "penicillin"},
        },
    ]


def test_an_absent_type_whose_specs_are_compiled_anyway_shares_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan is keyed on the row specs left out, not on the absent types: an export without
    prescriptions, medicines or allergies replays the plan of one with them (generated exports
    drew a new set of such types almost every example, and compiled a plan for it: seconds
    each), and each is read as the service reads it."""
    assert all(left_out(AUDIT_READING, frozenset({kind})) == () for kind in ALONE)
    # an export without Medications leaves out no spec: none needs one's row (stop 39)
    assert left_out(AUDIT_READING, frozenset({"Medication"})) == ()
    assert left_out(AUDIT_READING, frozenset({"DiagnosticReport"}))  # (its parts are left out)
    monkeypatch.setattr(ibis_compile, "_PLANS", {})  # (a plan on disk is read, not compiled)
    with_them = export_of([*eligible_resources(), *_her_medicines()])
    without = {**with_them, **{kind: [] for kind in ALONE}}  # their files written, empty
    for name, export in (("with", with_them), ("without", without)):
        assert_agrees(export, tmp_path / name)
    assert len(ibis_compile._PLANS) == 1


def _needs_a_medication(row: RowSpec) -> bool:
    return any(j.table == "medications" for j in joins_needed(row.when))


def test_an_export_without_medications_leaves_out_no_methotrexate_spec() -> None:
    """The methotrexate a medicine's record names by an exported Medication was read by specs of
    their own whose condition needed that Medication's row (stop 36), left out of an export
    without Medications; stop 38 added a third spec per type for a Medication not held. Since
    stop 39 one spec per type reads its medicine (`definition._MEDICINE_SAYS`: methotrexate,
    a Medication held with no code or name, one not held), the Medication inside an `Or`: no
    spec needs a Medication's row, none is left out, and an export without Medications joins
    nothing all the same (`needed_joins.never_found`: every joined table no row can fill,
    checked by the first test here)."""
    assert not [r for r in READING.rows if _needs_a_medication(r)]
    methotrexate = [
        r
        for r in READING.rows
        if r.table == "clinical"
        and any(name == "missing_medication" and e != Const(None) for name, e in r.columns)
    ]
    assert sorted(r.resource for r in methotrexate) == sorted(
        ["MedicationRequest", "MedicationStatement", "MedicationAdministration"]
    )
    left = [READING.rows[i] for i in left_out(READING, frozenset({"Medication"}))]
    # (only the Medication's own spec of the problems' table, as before)
    assert [r.resource for r in left] == ["Medication"]
    assert "medications" in never_found(READING.rows, frozenset({"Medication"}))
    # with its Medications, none is left out; without the medicine type, only its own
    assert left_out(READING, frozenset()) == ()
    without = [READING.rows[i] for i in left_out(READING, frozenset({"MedicationAdministration"}))]
    assert all(r.resource == "MedicationAdministration" for r in without)
    assert sum(r.table == "clinical" for r in without) == 1


def test_a_medication_the_record_does_not_hold_is_read_without_medications() -> None:
    """A "Medication/x" the record does not hold (stop 38) is named whether the export has
    Medications or not: its spec (since stop 39 the one methotrexate spec of its type) needs
    no Medication's row, so an export without Medications keeps it in its plan (every
    reference then names one not held)."""
    missing = [
        r
        for r in READING.rows
        if r.table == "clinical"
        and any(name == "missing_medication" and e != Const(None) for name, e in r.columns)
    ]
    assert sorted(r.resource for r in missing) == sorted(
        ["MedicationRequest", "MedicationStatement", "MedicationAdministration"]
    )
    assert not any(_needs_a_medication(r) for r in missing)
    kept = set(range(len(READING.rows))) - set(left_out(READING, frozenset({"Medication"})))
    assert {READING.rows.index(r) for r in missing} <= kept


def test_a_small_export_sends_no_append_of_a_type_it_has_no_line_of_and_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small export reads the general plan (`plan_choice`: every type's parts in it), but a
    union's part of a row spec that gives no row of this export (its type has no line) is not
    appended (stop 54: an export without scan reports spent about 0.6 CPU s of a 2.8 s audit
    binding and planning their parts). Read exactly as with every part appended: the same
    episodes and problems, value for value. Then, for an export missing each type in turn, the
    parts left out are those of that type's specs (and of specs needing a row only it gives)."""
    monkeypatch.delenv(SPECIALISE_FROM_BYTES)  # (the general plan)
    files = _export(tmp_path / "export")
    con = ibis.duckdb.connect()
    sent = sql_sent(con)
    loaded = load_resources(con, files, READING, "g_r")
    assert {"DiagnosticReport", "MedicationStatement", "Medication"} <= loaded.absent
    plans: list[Any] = []
    parts_without_rows = ibis_compile._parts_without_rows

    def told(plan: Any, *args: Any) -> frozenset[int]:
        plans.append(plan)
        return parts_without_rows(plan, *args)

    # every append sent (the first reading may compile the plan: a compile runs every part)
    monkeypatch.setattr(ibis_compile, "_parts_without_rows", lambda *args: frozenset())
    every = _read(con, loaded, "h")
    monkeypatch.setattr(ibis_compile, "_parts_without_rows", told)
    sent.clear()
    assert _read(con, loaded, "g") == every
    plan = plans[-1]
    # every append of a row table is told its row spec (none left to run for want of it), and
    # each part reads that spec's own type (the problems' parts are told when they are a spec's
    # checks: the episodes' problems are not, and are always run)
    rows = set(plan.rows.values())
    row_appends = [i for i in plan.appends if plan.statements[i][0] in rows]
    told_appends = sorted(i for i, _ in plan.part_rows)
    assert row_appends and set(row_appends) <= set(told_appends) <= set(plan.appends)
    inlined = ibis_compile._views_inlined(plan.statements)
    for i, k in plan.part_rows:
        assert f'"@in_{READING.rows[k].resource}@"' in (inlined[i] or ""), (i, k)
    appended = [sql for sql in sent if sql.startswith('INSERT INTO "g_k_')]
    of_rows = [sql for sql in appended if not sql.startswith('INSERT INTO "g_k_problems_')]
    # no part of a type without lines among those sent (the first part of a table is always
    # run: it makes the table)
    for kind in loaded.absent:
        assert not [sql for sql in of_rows if f'"g_r_{kind}"' in sql], kind
    assert len(appended) < len(plan.appends)
    # each type missing in turn
    for kind in loaded:
        alone = LoadedResources(loaded, frozenset({kind}))
        out = parts_without_rows(plan, READING, alone)
        empty = empty_tables(READING.rows, frozenset({kind}))
        expected = {
            i
            for i, k in plan.part_rows
            if READING.rows[k].resource == kind
            or any(j.table in empty for j in joins_needed(READING.rows[k].when))
        }
        assert out == expected, kind
