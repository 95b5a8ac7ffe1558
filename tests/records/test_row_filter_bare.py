"""A row spec's ``when`` is the rows' filter as it is, not inside a COALESCE (docs/speed.md, FHIR
round 10): a filter drops a row whose condition is None as it drops False, and under a
COALESCE DuckDB evaluated every part of the condition for every row (an Observation's hCG
and unit tests, with their regular expressions, for every Observation), where a bare AND / OR
tests each part only on the rows it has not decided yet. What is read is the same: the node
cases with a ``when`` that is None (tests/records/node_cases.py) and the engines-agree tests."""

from __future__ import annotations

import dataclasses
import re

from earlypath.records import ir as rec
from earlypath.records.definition import READING
from earlypath.rules.ir import Cmp, Const
from tests.records.clinical_sql import clinical_sql, table_sql


def _closing(sql: str, opening: int) -> int:
    """The place of the parenthesis closing the one at ``opening``."""
    depth = 0
    for i in range(opening, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if depth == 0:
            return i
    raise ValueError("unbalanced")


# Until stop 36 a row spec without checks also kept the rows whose "first check failed" is
# NULL, always true (`_compile_row`'s ``_failed``), written by ibis into the same WHERE as
# ``when`` where no shared part is computed between the two filters
_NO_CHECK_FAILED = re.compile(r"CAST\(NULL AS BIGINT\) IS NULL")


def _whole_filters_in_coalesce(sql: str) -> list[str]:
    """The WHERE clauses that are one COALESCE(..., FALSE) from end to end."""
    found = []
    for m in re.finditer(r"WHERE\s+COALESCE\(", sql):
        end = _closing(sql, m.end() - 1)
        after = sql[end + 1 :].lstrip()
        if not after.upper().startswith(("AND", "OR")):
            found.append(sql[m.start() : end + 1])
    return found


def test_a_row_spec_filters_its_rows_by_its_when_as_it_is() -> None:
    value = rec.Field("valueQuantity.value", "num")
    row = rec.RowSpec("values", "Observation", Cmp(">", value, Const(5)), None, (("v", value),))
    sql = table_sql(dataclasses.replace(READING, rows=(row,)), "values")
    assert re.search(r"WHERE .*\"valueQuantity__value__num\" > 5", sql), sql
    assert not re.search(r"COALESCE\(\S+\"valueQuantity__value__num\" > 5", sql), sql


def test_a_row_spec_without_checks_has_no_filter_of_failed_checks() -> None:
    """Its rows are all kept: no "first check failed" column, no filter on it (always true);
    a row spec with a check still keeps only the rows that pass it."""
    value = rec.Field("valueQuantity.value", "num")
    row = rec.RowSpec("values", "Observation", Cmp(">", value, Const(5)), None, (("v", value),))
    sql = table_sql(dataclasses.replace(READING, rows=(row,)), "values")
    assert not _NO_CHECK_FAILED.search(sql), sql
    checked = dataclasses.replace(
        row, checks=(rec.Check(Cmp("<", value, Const(9)), rec.Message(("too large",))),)
    )
    sql = table_sql(dataclasses.replace(READING, rows=(checked,)), "values")
    assert "ELSE CAST(NULL AS BIGINT) END IS NULL" in sql, sql  # (ibis writes the column in)


def test_the_clinical_rows_filter_by_their_when_as_it_is() -> None:
    """Neither the Conditions' nor the Observations' own filter is one COALESCE; item rows
    (a panel's components, a report's conclusions) keep theirs (test_item_rows_plan.py)."""
    # one per level of item rows (a contained panel's components are a second: ``then``)
    levels = sum(
        _depth(r.items) for r in READING.rows if r.table == "clinical" and r.items is not None
    )
    assert len(_whole_filters_in_coalesce(clinical_sql())) == levels


def test_the_procedure_rows_filter_by_their_when_as_it_is() -> None:
    """Stop 31's Procedure filter began `WHERE COALESCE(status IN (...), FALSE) = FALSE AND
    ...`: now its code first and the status test bare (`_PROCEDURE_PERFORMED`)."""
    statuses = r"IN \('entered-in-error', 'not-done'\)"
    sql = clinical_sql()  # compiled once for this test and the one above
    assert re.search(statuses, sql), sql
    in_coalesce = r"COALESCE\(CASE WHEN [^()]* THEN CAST\(NULL AS BOOLEAN\) ELSE [^()]* "
    assert not re.search(in_coalesce + statuses + r" END, FALSE\)", sql), sql


def _depth(items: rec.ItemRows | None) -> int:
    return 0 if items is None else 1 + _depth(items.then)


# ibis's substr writes each start as a CASE that allows a start counted from the end, its text
# written a second time inside: some 570 of them in the clinical statement until stop 37
_START_FROM_THE_END = re.compile(r"CASE WHEN \(\d+ \+ 1\) >= 1 THEN")


def test_the_clinical_rows_write_each_substring_once() -> None:
    """The compiler's substrings (a date's first ten characters, a reference's id, an NHS
    number's digits) start at a place known in advance: ``SUBSTRING(text, start, length)``
    (`earlypath.records.sql_substring`), the text written once; the values are the same
    (tests/records/test_sql_substring.py)."""
    sql = clinical_sql()
    assert "SUBSTRING(" in sql
    assert not _START_FROM_THE_END.search(sql)
