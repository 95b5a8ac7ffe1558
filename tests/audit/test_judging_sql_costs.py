"""The checks' and the rules' SQL in the forms DuckDB evaluates with fewer instructions (issue 16,
round 9: benchmarks/audit_copy_instructions.py), and that each form gives what the longer one
gave: the flag as a CASE WHEN, a padded cell found by its first and reversed-first character, the
allergies' check on the cell as written, a word list tested by inequalities, the rules' criteria
read where the cascade reads them, a verdict tested True before Unknown, ``missing`` answering
the slots a verdict decided first, ``decision`` and ``recommendations`` without the WHENs their ELSE
answers; stop 29: ``adherence`` by the care then the decision, a measurement's finiteness in one
DuckDB call, ``NOT (x IS NULL)`` as IS NOT NULL."""

from __future__ import annotations

import re
from typing import Any

import ibis
import pyarrow as pa

from earlypath.audit.validate import _clean, check_and_type, repeated_ids
from earlypath.engines.batch import assess_table, tables_for
from earlypath.engines.ibis_compile import outcome_slots
from tests.audit.facts_engine import fact_table
from tests.audit.helpers import FLAT_SCHEMA, GOOD_DAY, GOOD_ROW

DAY = GOOD_DAY
GOOD = GOOD_ROW
LONG = "x" * 201
ROWS = [
    GOOD,
    {**GOOD, "episode_id": " e2\t", "scan_route": " transabdominal\n"},  # padded, accepted
    {**GOOD, "episode_id": "e3", "scan_route": "sideways"},  # not a route
    {**GOOD, "episode_id": "e4", "scan_location": "uterus"},  # not a location
    {**GOOD, "episode_id": "e5", "allergies": f"  peanut; {LONG}  "},  # an entry too long
    {**GOOD, "episode_id": "e6", "allergies": " " * 250 + "peanut; latex" + " " * 9},  # fine
    {**GOOD, "episode_id": "e7", "allergies": "é" * 150},  # 150 characters, 300 bytes: fine
    {**GOOD, "episode_id": "e8", "crl_mm": float("inf")},
    {**GOOD, "episode_id": "e9", "msd_mm": float("-inf")},
    {**GOOD, "episode_id": "e10", "crl_mm": None, "msd_mm": float("nan")},
    {**GOOD, "episode_id": "e11", "scan_route": None, "scan_date": None},  # findings, no scan
]


def _checked() -> list[dict[str, Any]]:
    raw = ibis.memtable(pa.Table.from_pylist(ROWS, schema=FLAT_SCHEMA))
    checked = check_and_type(raw, repeated_ids(raw))
    assert "_allergies_cell" not in checked.columns  # a working column, not an output
    out = checked.select("episode_id", "scan_route", "reject_reason", "_rejected")
    return ibis.duckdb.connect().to_pyarrow(out).to_pylist()


def test_the_flag_marks_exactly_the_rows_with_a_reason() -> None:
    rows = _checked()
    assert [r["_rejected"] for r in rows] == [r["reject_reason"] is not None for r in rows]
    reasons = {r["episode_id"]: r["reject_reason"] for r in rows}
    assert reasons["e1"] is None and reasons["e2"] is None
    assert reasons["e3"] == "scan_route: must be one of transvaginal, transabdominal"
    assert (
        reasons["e4"]
        == "scan_location: must be one of intrauterine, ectopic, unknown, report_not_read"
    )
    assert reasons["e5"] == "allergies: has an entry longer than 200 characters"
    assert reasons["e6"] is None and reasons["e7"] is None
    assert reasons["e8"] == "crl_mm: is not a number"
    assert reasons["e9"] == "msd_mm: is not a number"
    assert reasons["e10"] == "msd_mm: is not a number"
    assert reasons["e11"] == "scan_date: is required when scan findings are given"
    assert [r["scan_route"] for r in rows][:2] == ["transvaginal", "transabdominal"]


def test_a_cell_is_cleaned_as_python_strips_it() -> None:
    cells = ["a", " a", "a ", "\ta\r\n", "\x0b\x0ca\x0c", "", " ", "é ", " é", "é", "a\x01", "a b"]
    t = ibis.memtable(pa.table({"c": pa.array(cells, pa.string()), "i": range(len(cells))}))
    got = ibis.duckdb.connect().to_pyarrow(t.select("i", c=_clean(t.c, "str")).order_by("i"))
    expected = [c.strip(" \t\n\r\x0b\x0c") or None for c in cells]
    assert got["c"].to_pylist() == expected


def test_the_checks_sql_is_in_its_cheaper_forms() -> None:
    raw = ibis.memtable(pa.Table.from_pylist(ROWS, schema=FLAT_SCHEMA))
    sql = " ".join(str(ibis.to_sql(check_and_type(raw, []), dialect="duckdb")).split())
    flag = re.search(r"CASE WHEN (.*) THEN TRUE ELSE FALSE END AS \"?_rejected", sql)
    assert flag is not None  # a CASE WHEN over the OR, not COALESCE(OR, FALSE)
    assert "RIGHT(" not in sql.upper() and "REVERSE(" in sql.upper()
    assert not re.search(r"NOT \(\S+scan_route\"? IN", sql)
    assert re.search(r"LENGTH\(\S+_allergies_cell\"?\) > 200", sql, re.IGNORECASE)


def test_the_rules_read_their_criteria_in_the_cascade() -> None:
    sql = ibis.duckdb.connect().compile(assess_table(ibis.memtable(fact_table([]))))
    assert '"_rule_' not in sql  # no criterion is a column of its own
    assert sql.upper().count("SQRT(") == 1  # the gestation once, its column read by the rules
    # A verdict is tested True first, then Unknown; a guard is not wrapped in COALESCE.
    assert re.search(
        r'WHEN "t\d+"\."on_progesterone" THEN 3 WHEN "t\d+"\."on_progesterone" IS NULL THEN 4', sql
    )
    assert 'COALESCE("t' not in sql.split('AS "gestation_days"')[1].split('AS "_outcome"')[0]
    # `missing` answers the slots a verdict decided (odd) before the Unknown ones.
    assert re.search(r'CASE WHEN \("t\d+"\."_outcome" % 2\) = 1 THEN \[\]', sql)


def test_the_lookups_leave_out_what_their_else_gives() -> None:
    sql = ibis.duckdb.connect().compile(assess_table(ibis.memtable(fact_table([]))))
    slots = outcome_slots(tables_for()).slots
    decision = re.search(r'CASE "t\d+"\."_outcome" (.*?) END AS "decision"', sql)
    assert decision is not None
    # ``decision``: the verdicts' True slots only (an Unknown slot is the ELSE's
    # needs_information), so a row is compared with half as many WHENs
    whens = [int(n) for n in re.findall(r"WHEN (\d+) THEN", decision.group(1))]
    assert whens == [i for i, s in enumerate(slots, start=1) if not s.unknown]
    assert "'needs_information'" not in decision.group(1).split(" ELSE ")[0]
    # ``recommendations``: one WHEN a verdict citing any, keyed by slot + slot % 2
    recs = re.search(
        r'CASE "t\d+"\."_outcome" \+ \("t\d+"\."_outcome" % 2\) (.*?) END AS "rec', sql
    )
    assert recs is not None
    keys = [int(n) for n in re.findall(r"WHEN (\d+) THEN", recs.group(1))]
    cited = [
        i + 1 for i, s in enumerate(slots, start=1) if not s.unknown and s.verdict.recommendations
    ]
    assert keys == cited and all(k % 2 == 0 for k in keys)


def test_a_branch_that_narrows_a_later_one_is_numbered_after_it() -> None:
    slots = outcome_slots(tables_for())
    number = {id(s.verdict): i for i, s in enumerate(slots.slots, start=1) if not s.unknown}
    narrowing = 0
    for _, table in slots.groups:
        for i, branch in enumerate(table.branches):
            for wider in table.branches[i + 1 :]:
                items = getattr(branch.guard, "items", ())
                if wider.guard in items:  # e.g. not on it and the report not read / not on it
                    narrowing += 1
                    assert min(number[id(v)] for v in branch.verdicts) > max(
                        number[id(v)] for v in wider.verdicts
                    )
    assert narrowing >= 2  # progesterone's two unread-report branches (stop 26)


def test_the_slots_are_numbered_in_pairs() -> None:
    slots = outcome_slots(tables_for()).slots
    assert [s.unknown for s in slots] == [False, True] * (len(slots) // 2)


def test_a_measurement_is_tested_finite_in_one_call_on_duckdb() -> None:
    # Bound to DuckDB, as the audit's checks are: ``NOT isfinite(x)``, not ``isnan OR isinf``
    # (stop 29); the same rows rejected and the same cells read as Unknown.
    con = ibis.duckdb.connect()
    raw = con.create_table("cohort", ibis.memtable(pa.Table.from_pylist(ROWS, schema=FLAT_SCHEMA)))
    checked = check_and_type(raw, repeated_ids(raw))
    sql = con.compile(checked).upper()
    assert "ISFINITE(" in sql and "ISNAN(" not in sql and "ISINF(" not in sql
    out = checked.select("episode_id", "crl_mm", "msd_mm", "reject_reason")
    rows = {r["episode_id"]: r for r in con.to_pyarrow(out).to_pylist()}
    assert rows["e8"]["reject_reason"] == "crl_mm: is not a number" and rows["e8"]["crl_mm"] is None
    assert rows["e9"]["reject_reason"] == "msd_mm: is not a number" and rows["e9"]["msd_mm"] is None
    assert rows["e10"]["reject_reason"] == "msd_mm: is not a number"
    assert rows["e1"]["reject_reason"] is None and rows["e1"]["crl_mm"] == GOOD["crl_mm"]


def test_a_known_value_is_tested_is_not_null() -> None:
    # NOT (x IS NULL) is never Unknown: compiled IS NOT NULL, not "(x IS NULL) = FALSE", which
    # DuckDB does not fold (the cross-field check of a CRL without a fetal pole; stop 29).
    raw = ibis.memtable(pa.Table.from_pylist(ROWS, schema=FLAT_SCHEMA))
    sql = " ".join(str(ibis.to_sql(check_and_type(raw, []), dialect="duckdb")).split())
    assert not re.search(r"IS NULL\) = FALSE", sql, re.IGNORECASE)
    assert re.search(r"\"crl_mm\" IS NOT NULL \) AND \( \"t\d\"\.\"fetal_pole\" = FALSE", sql)


def test_adherence_is_looked_up_by_the_care_then_the_decision() -> None:
    # Each care's outcomes in a CASE decision WHEN (stop 29), not every (decision, care) pair
    # in turn; the same category for every decision and care, as the python pass gives it.
    from earlypath.audit.measures import ADHERENCE, CARE_UNKNOWN, UNDECIDABLE, adherence_expr

    decisions = ["offer", "do_not_offer", "stop", "continue", "needs_information", None]
    rows = [{"d": d, "p": p} for d in decisions for p in (True, False, None)]
    t = ibis.memtable(
        pa.Table.from_pylist(rows, schema=pa.schema([("d", pa.string()), ("p", pa.bool_())]))
    )
    expr = t.mutate(a=adherence_expr(t.d, t.p))
    sql = " ".join(str(ibis.to_sql(expr, dialect="duckdb")).split())
    assert " AND " not in sql and sql.count("'offer'") == 2
    got = ibis.duckdb.connect().to_pyarrow(expr).to_pylist()
    for row in got:
        if row["d"] == "needs_information":
            expected = UNDECIDABLE
        elif row["p"] is None:
            expected = CARE_UNKNOWN
        else:
            expected = ADHERENCE.get((row["d"], row["p"]), UNDECIDABLE)
        assert row["a"] == expected, row
