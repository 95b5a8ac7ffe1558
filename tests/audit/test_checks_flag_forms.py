"""The checks' flag in cheaper forms (issue 16, stop 30: benchmarks/audit_copy_instructions.py):
on DuckDB a measurement's NaN or infinity is flagged by its range check on the cell as written
(no per-row column of the unreadable cells' text), and ``IsTrue(x)`` is ``x`` where only True
counts. Each form flags the same rows and writes the same reasons, in the same order, as the
portable form (the checks built on an unbound table) does."""

from __future__ import annotations

import re

import ibis
import pyarrow as pa

from earlypath.audit.validate import check_and_type, repeated_ids
from tests.audit.checks_forms import bound, portable
from tests.audit.helpers import FLAT_SCHEMA, GOOD_ROW

NAN, INF = float("nan"), float("inf")
NO_SCAN = {
    **GOOD_ROW,
    **dict.fromkeys(("scan_date", "scan_route", "scan_location", "crl_mm", "msd_mm"), None),
    **dict.fromkeys(("fetal_pole", "fetal_heartbeat"), None),
}
MEASURES = [NAN, INF, -INF, -1.0, -0.0, 0.0, 120.0, 120.5, 1e300, None]
ROWS = (
    [
        {**GOOD_ROW, "episode_id": f"m{i}-{j}", "crl_mm": crl, "msd_mm": msd}
        for i, crl in enumerate(MEASURES)
        for j, msd in enumerate(MEASURES)
    ]
    + [
        {
            **GOOD_ROW,
            "episode_id": "h1",
            "fetal_heartbeat": True,
            "fetal_pole": False,
            "crl_mm": None,
        },
        {
            **GOOD_ROW,
            "episode_id": "h2",
            "fetal_heartbeat": None,
            "fetal_pole": False,
            "crl_mm": None,
        },
        {
            **GOOD_ROW,
            "episode_id": "h3",
            "fetal_heartbeat": True,
            "fetal_pole": None,
            "crl_mm": None,
        },
        {
            **GOOD_ROW,
            "episode_id": "h4",
            "fetal_heartbeat": True,
            "fetal_pole": False,
            "crl_mm": NAN,
        },
    ]
    + [  # no scan, one measurement: a finding without a scan only when it is a number
        {**NO_SCAN, "episode_id": f"s{i}", "msd_mm": msd} for i, msd in enumerate((NAN, 5.0, None))
    ]
)
OUT = ("episode_id", "reject_reason", "_rejected")


def _flag(sql: str) -> str:
    """The condition of the ``_rejected`` flag's CASE WHEN: back from its THEN to the CASE WHEN
    outside every parenthesis (a CASE inside the condition is in parentheses)."""
    end = sql.index(' THEN TRUE ELSE FALSE END AS "_rejected"')
    depth, start = 0, end
    while depth != 0 or not sql.startswith(", CASE WHEN ", start):
        start -= 1
        depth += {")": 1, "(": -1}.get(sql[start], 0)
    return sql[start + len(", CASE WHEN ") : end]


def test_a_measurement_not_finite_is_flagged_by_its_range_on_duckdb() -> None:
    table = pa.Table.from_pylist(ROWS, schema=FLAT_SCHEMA)
    sql, rows = bound(table, OUT)
    flag = _flag(sql)
    assert "ISFINITE(" not in flag.upper() and "_unreadable" not in sql
    assert re.search(r'"_crl_mm_as_written" > 120', flag)
    assert re.search(r'"_msd_mm_as_written" < 0', flag)
    assert rows == portable(table, OUT)
    assert [r["_rejected"] for r in rows] == [r["reject_reason"] is not None for r in rows]
    reasons = {r["episode_id"]: r["reject_reason"] for r in rows}
    assert reasons["m0-0"] == "crl_mm: is not a number; msd_mm: is not a number"
    assert reasons["m2-7"] == "crl_mm: is not a number; msd_mm: must be between 0 and 120 mm"
    assert reasons["m9-1"] == "msd_mm: is not a number"
    assert reasons["m9-6"] is None and reasons["m4-5"] is None  # 120.0, -0.0 and 0.0: in range
    assert reasons["m8-9"] == "crl_mm: must be between 0 and 120 mm"  # 1e300: a number
    # The findings without a scan read the measurements as written in the flag
    assert re.search(r'"_msd_mm_as_written" IS NOT NULL', flag)
    assert reasons["s0"] == "msd_mm: is not a number"
    assert reasons["s1"] == "scan_date: is required when scan findings are given"
    assert reasons["s2"] is None


def test_the_dating_scan_is_chosen_without_coalesce() -> None:
    table = pa.Table.from_pylist(ROWS, schema=FLAT_SCHEMA)
    con = ibis.duckdb.connect()
    raw = con.create_table("cohort", ibis.memtable(table))
    checked = check_and_type(raw, repeated_ids(raw))
    sql = " ".join(str(con.compile(checked)).split())
    assert not re.search(r'COALESCE\(\s*"t\d+"\."crl_mm" > 0', sql)
    dating = con.to_pyarrow(checked.select("crl_mm", "scan_date", "dating_crl_mm")).to_pylist()
    for row in dating:
        positive = row["crl_mm"] is not None and row["crl_mm"] > 0
        assert row["dating_crl_mm"] == (row["crl_mm"] if positive and row["scan_date"] else None)


def test_the_reason_keeps_its_order_with_unreadable_text_cells() -> None:
    # A text column before the measurements keeps the new form (its text first, then theirs);
    # one after them keeps the measurements' text in the per-row column, before its own.
    for name, cell, expected_form in (
        ("lmp", "2024-13-45", True),
        ("prescribed_on", "soon", False),
    ):
        schema = FLAT_SCHEMA.set(FLAT_SCHEMA.get_field_index(name), pa.field(name, pa.string()))
        rows = [
            {**r, name: cell if i % 3 == 0 else (None if i % 3 == 1 else "2024-01-15")}
            for i, r in enumerate(ROWS)
        ]
        table = pa.Table.from_pylist(rows, schema=schema)
        sql, got = bound(table, OUT)
        assert ("_crl_mm_as_written" in _flag(sql)) is expected_form, name
        assert got == portable(table, OUT), name
        first = {r["episode_id"]: r["reject_reason"] for r in got}["m0-9"]
        unreadable = f"{name}: is not a date (YYYY-MM-DD)"
        assert first == (
            f"{unreadable}; crl_mm: is not a number"
            if name == "lmp"
            else f"crl_mm: is not a number; {unreadable}"
        )


def test_a_heartbeat_without_a_pole_is_tested_without_coalesce() -> None:
    table = pa.Table.from_pylist(ROWS, schema=FLAT_SCHEMA)
    sql, rows = bound(table, OUT)
    assert not re.search(r'COALESCE\(\s*"t\d+"\."fetal_heartbeat"', sql)
    assert rows == portable(table, OUT)
    reasons = {r["episode_id"]: r["reject_reason"] for r in rows}
    assert reasons["h1"] == "fetal_pole: is false but fetal_heartbeat is true"
    assert reasons["h2"] is None and reasons["h3"] is None
    assert (
        reasons["h4"] == "crl_mm: is not a number; fetal_pole: is false but fetal_heartbeat is true"
    )


def test_the_working_columns_of_the_measurements_are_refused_in_a_cohort() -> None:
    # A cohort column with one of these names would clash with the checks' own: refused by name
    from earlypath.audit.flat import added_name_clashes
    from earlypath.audit.validate import _MEASUREMENTS, _as_written

    names = [_as_written(n) for n in _MEASUREMENTS]
    assert list(added_name_clashes([*names, "crl_mm", "site"])) == names
