"""`plain_join.left_join_select` makes the node ibis's ``left_join(...).select(...)`` makes,
so the SQL is the same; a value it cannot place is left to ibis (issue 16: a cold plan)."""

from __future__ import annotations

import ibis

from earlypath.records.plain_join import left_join_select


def _tables() -> tuple[ibis.Table, ibis.Table, ibis.Table]:
    rows = ibis.table({"id": "string", "subject": "string", "n": "int64"}, name="rows")
    keyed = rows.mutate(_jk0=rows["subject"].upper(), _jp0=rows["id"])
    other = ibis.table({"id": "string", "patient": "string", "v": "int64"}, name="other")
    lookup = other.group_by(_jid=other["id"], _jpat=other["patient"].fill_null("")).aggregate(
        _jv=ibis.struct({"n": other["v"], "v": other["v"]}).max()
    )
    return rows, keyed, lookup


def test_the_join_is_the_one_ibis_makes() -> None:
    _, t, lookup = _tables()
    on = [t["_jk0"] == lookup["_jid"], t["_jp0"].fill_null("") == lookup["_jpat"]]
    kept = [c for c in t.columns if c != "_jp0"]
    added = {"_j0": lookup["_jv"]["v"], "_mask0": lookup["_jv"]["n"].fill_null(0)}
    ours = left_join_select(t, lookup, on, kept, added)
    theirs = t.left_join(lookup, on).select(*kept, **added)
    assert ours.op() == theirs.op()
    assert ibis.to_sql(ours, dialect="duckdb") == ibis.to_sql(theirs, dialect="duckdb")


def test_a_field_of_a_table_under_the_joined_one_is_left_to_ibis() -> None:
    rows, t, lookup = _tables()
    # ``rows["subject"]`` is a column of the table under ``t``: ibis maps it through the
    # projection, this module does not, and gives the join to ibis
    on = [rows["subject"] == lookup["_jid"]]
    ours = left_join_select(t, lookup, on, t.columns, {"_j0": lookup["_jv"]["v"]})
    theirs = t.left_join(lookup, on).select(*t.columns, _j0=lookup["_jv"]["v"])
    assert ours.op() == theirs.op()
